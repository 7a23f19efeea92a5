"""Password policy for production: long, not a common password, not the name.

Length beats composition rules (NIST SP 800-63B): twelve characters and a
refusal of the passwords every cracking list tries first. Development keeps
the schema's minimum of 8 so tests and demos stay short."""

from __future__ import annotations

MIN_LENGTH = 12

# The most common passwords of public breach lists (and their local spellings)
# that are at least 12 characters long or become so with a simple suffix; any
# shorter one already fails the length rule.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678910",
        "123123123123",
        "111111111111",
        "000000000000",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "qwertyuiopas",
        "qwertyuiop123",
        "qwerty123456",
        "qwerty12345678",
        "asdfghjkl123",
        "zxcvbnm12345",
        "password1234",
        "password12345",
        "password123!",
        "passw0rd1234",
        "p@ssw0rd1234",
        "iloveyou1234",
        "administrator",
        "administrator1",
        "admin1234567",
        "admin123456789",
        "adminadmin123",
        "changeme1234",
        "change-me-please",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "trustno1trustno1",
        "superman1234",
        "football1234",
        "baseball1234",
        "princess1234",
        "sunshine1234",
        "easyflow1234",
        "easyflow12345",
        "easyflowadmin",
        "йцукенгшщзхъ",
        "пароль123456",
        "парольпароль",
        "qwertyqwerty",
        "abcdefghijkl",
        "abc123abc123",
    }
)


def password_problems(password: str, username: str | None = None) -> list[str]:
    """What is wrong with the password under the production policy (empty: ok)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"shorter than {MIN_LENGTH} characters")
    folded = password.strip().casefold()
    if folded in COMMON_PASSWORDS or len(set(folded)) <= 2:
        problems.append("a common password")
    if username and folded == username.strip().casefold():
        problems.append("the same as the username")
    return problems

"""Shop slang lexicon: aliases add the knowledge files' own words."""

from pathlib import Path

from actions.knowledge.lexicon import Lexicon

SHIPPED = Path(__file__).resolve().parents[3] / "data" / "knowledge" / "synonyms.yml"


def lexicon(tmp_path: Path, text: str) -> Lexicon:
    path = tmp_path / "synonyms.yml"
    path.write_text(text, "utf-8")
    return Lexicon.load(path)


def test_an_alias_adds_its_canonical_words(tmp_path: Path) -> None:
    words = lexicon(tmp_path, "ru:\n  промокод: [промик, купон]\n")
    assert words.expand("куда вводить промик?", "ru") == "куда вводить промик? промокод"


def test_whole_words_only(tmp_path: Path) -> None:
    words = lexicon(tmp_path, "ru:\n  wildberries: [вб]\n")
    assert words.expand("вбить адрес", "ru") == "вбить адрес"
    assert words.expand("на ВБ заказала", "ru").endswith("wildberries")


def test_phrases_and_yo_are_matched(tmp_path: Path) -> None:
    words = lexicon(tmp_path, "ru:\n  брак: [шов разошёлся]\nen:\n  x: [gift box]\n")
    assert words.expand("шов разошелся", "ru").endswith("брак")
    assert words.expand("a Gift Box please", "en").endswith("x")


def test_other_languages_are_left_alone(tmp_path: Path) -> None:
    words = lexicon(tmp_path, "ru:\n  промокод: [promo]\n")
    assert words.expand("promo", "en") == "promo"


def test_a_missing_or_broken_file_means_no_aliases(tmp_path: Path) -> None:
    assert Lexicon.load(tmp_path / "absent.yml").expand("вб", "ru") == "вб"
    assert lexicon(tmp_path, "ru: [unclosed").expand("вб", "ru") == "вб"


def test_the_shipped_lexicon_loads_both_languages() -> None:
    words = Lexicon.load(SHIPPED)
    assert words.expand("вы на вб торгуете", "ru").endswith("wildberries")
    assert "promo code" in words.expand("where do I enter the coupon", "en")

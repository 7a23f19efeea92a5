"""tests.shoppers_gate: how predictions are scored."""

from tests.shoppers_gate import Case, Prediction, score


def _case(intent: str, note: str | None = None) -> Case:
    return Case("text", intent, "cyrillic_ru", "ru", note=note)


def test_an_exchange_counts_as_answered_by_the_exchange_or_the_return_intent() -> None:
    cases = [_case("return_item", "exchange")] * 3
    predictions = [
        Prediction("exchange_item", None),
        Prediction("return_item", None),
        Prediction("refund_status", None),
    ]
    assert score(cases, predictions)["in_scope_accuracy"] == 2 / 3


def test_a_plain_return_is_not_answered_by_the_exchange_intent() -> None:
    result = score([_case("return_item")], [Prediction("exchange_item", None)])
    assert result["in_scope_accuracy"] == 0.0


def test_both_fallback_intents_route_to_the_fallback() -> None:
    cases = [_case("out_of_scope"), _case("out_of_scope"), _case("greet")]
    predictions = [
        Prediction("nlu_fallback", None),
        Prediction("out_of_scope", None),
        Prediction("out_of_scope", None),
    ]
    result = score(cases, predictions)
    assert result["fallback_f1"] == 2 * 2 / (2 * 2 + 1)
    assert result["in_scope_accuracy"] == 0.0

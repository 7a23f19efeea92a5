"""tests.shoppers_gate: how predictions are scored."""

from tests.shoppers_gate import Case, Prediction, load, normalized, score, seen_texts


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


def test_messages_match_across_case_punctuation_and_entity_markup() -> None:
    assert normalized("Где заказ [A-10234](order_id)?!") == "где заказ a 10234"
    assert normalized("Где заказ A-10234") == normalized("где  заказ a-10234 ??")


def test_seen_messages_cover_the_training_data_and_the_other_split() -> None:
    seen = seen_texts("test")
    assert normalized(load("dev")[0].text) in seen
    assert "где мой заказ" in seen  # data/nlu/orders.yml
    assert normalized("совсем новая фраза которой нет нигде 12345") not in seen

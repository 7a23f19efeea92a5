"""bot.nlu.two_requests: clauses of a message and the request that matters."""

from bot.nlu.two_requests import SHOP_REQUESTS, choose, split


def ranking(name: str, confidence: float) -> list[dict[str, float | str]]:
    return [{"name": name, "confidence": confidence}, {"name": "x", "confidence": 0.0}]


def test_split_at_sentence_ends_commas_and_joining_words() -> None:
    assert split("отмените заказ A-70428 и верните деньги на карту") == [
        "отмените заказ A-70428",
        "верните деньги на карту",
    ]
    assert split("hey r u a bot or what, where is my order") == [
        "hey r u a bot or what",
        "where is my order",
    ]
    assert split("do you accept SBP? also is there a promo code") == [
        "do you accept SBP",
        "also is there a promo code",  # the joining word after a "?" stays
    ]
    assert split("где мой заказ") == ["где мой заказ"]


def test_the_first_real_request_wins_when_it_is_clear() -> None:
    clauses = [
        ranking("greet", 0.99),
        ranking("cancel_order", 0.95),
        ranking("refund_status", 0.97),
    ]
    assert choose(clauses, 0.9, 0.5) == clauses[1]


def test_an_unsure_first_request_keeps_the_whole_message() -> None:
    clauses = [ranking("cancel_order", 0.6), ranking("refund_status", 0.97)]
    assert choose(clauses, 0.9, 0.5) is None


def test_a_human_request_anywhere_wins() -> None:
    clauses = [ranking("refund_status", 0.99), ranking("human_handoff", 0.7)]
    assert choose(clauses, 0.9, 0.5) == clauses[1]


def test_only_scene_setting_clauses_keep_the_whole_message() -> None:
    clauses = [ranking("greet", 0.99), ranking("inform", 0.9)]
    assert choose(clauses, 0.9, 0.5) is None


def test_a_clear_complaint_wins_over_a_question_but_not_over_a_human() -> None:
    # "I'm pissed, my sneakers fell apart. and where's my other order?": the
    # complaint is recorded (with any order number) and a human is offered.
    clauses = [ranking("complaint", 0.8), ranking("order_status", 0.97)]
    assert choose(clauses, 0.9, 0.5, complaint_confidence=0.6) == clauses[0]
    assert choose(clauses, 0.9, 0.5) is None  # off by default
    unsure = [ranking("order_status", 0.97), ranking("complaint", 0.55)]
    assert choose(unsure, 0.9, 0.5, complaint_confidence=0.6) == unsure[0]
    human = [ranking("complaint", 0.9), ranking("human_handoff", 0.7)]
    assert choose(human, 0.9, 0.5, complaint_confidence=0.6) == human[1]


def test_a_first_request_of_another_model_keeps_the_whole_message() -> None:
    # A general assistant's "book_flight" is no request of the shop: its
    # compound messages keep their whole-message prediction.
    clauses = [ranking("greet", 0.99), ranking("book_flight", 0.95)]
    assert choose(clauses, 0.9, 0.5, intents={"order_status"}) is None
    assert choose(clauses, 0.9, 0.5, intents={"book_flight"}) == clauses[1]
    assert choose(clauses, 0.9, 0.5) == clauses[1]  # no list: any intent
    shop = [ranking("cancel_order", 0.95), ranking("refund_status", 0.97)]
    assert choose(shop, 0.9, 0.5, intents=SHOP_REQUESTS) == shop[0]

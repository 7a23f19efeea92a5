"""The demo provider's payment page, served by the action server at ``/pay/<id>``."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from string import Template

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.integrations.base import OrderNotChangeable
from actions.payments.base import Payment, PaymentState
from actions.payments.demo import DemoPaymentProvider
from actions.payments.settlement import Settlement

logger = logging.getLogger(__name__)

_PAGE = Template((Path(__file__).parent / "templates" / "pay.html").read_text("utf-8"))
_PAY_FORM = (
    '<form method="post"><button id="pay" type="submit">'
    "Оплатить · Pay</button></form>"
)
_PAID = '<p class="paid" id="status">Оплачено · Paid</p>'
_CANCELLED = '<p id="status">Платёж отменён · Payment cancelled</p>'


def _render(payment: Payment, body: str, status: int = 200) -> HTTPResponse:
    html = _PAGE.substitute(
        order_id=escape(payment.order_id),
        amount=f"{payment.amount:,}".replace(",", " "),
        currency=escape(payment.currency),
        body=body,
    )
    return response.html(html, status=status)


def _body(payment: Payment) -> str:
    if payment.state is PaymentState.SUCCEEDED:
        return _PAID
    if payment.state is PaymentState.CANCELLED:
        return _CANCELLED
    return _PAY_FORM


def pay_blueprint(provider: DemoPaymentProvider, settlement: Settlement) -> Blueprint:
    blueprint = Blueprint("demo_pay", url_prefix="/pay")

    @blueprint.get("/<payment_id:str>")
    async def show(request: Request, payment_id: str) -> HTTPResponse:
        payment = await provider.get_payment(payment_id)
        if payment is None:
            return response.text("Payment not found", status=404)
        return _render(payment, _body(payment))

    @blueprint.post("/<payment_id:str>")
    async def pay(request: Request, payment_id: str) -> HTTPResponse:
        try:
            payment = await provider.confirm(payment_id)
        except OrderNotChangeable as error:
            logger.warning(
                "demo_pay.rejected",
                extra={"payment_id": payment_id, "state": error.state.value},
            )
            return response.text("This order can no longer be paid", status=409)
        if payment is None:
            return response.text("Payment not found", status=404)
        if payment.state is PaymentState.SUCCEEDED:
            await settlement.succeeded(
                provider.name, payment.payment_id, payment.amount, payment.currency
            )
        logger.info(
            "demo_pay.paid",
            extra={"payment_id": payment_id, "order_id": payment.order_id},
        )
        return _render(payment, _body(payment))

    return blueprint

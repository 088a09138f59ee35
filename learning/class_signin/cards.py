"""Printed sign-in cards: one A4 PDF, eight cards a page (reportlab), each with the student's
name, username and personal code, the school's sign-in address and the class code."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

COLUMNS, ROWS = 2, 4
MARGIN = 12 * mm


@dataclass(frozen=True)
class Card:
    name: str
    username: str
    pin: str


def cards_pdf(
    *, school: str, signin_url: str, class_name: str, class_code: str, cards: Sequence[Card]
) -> bytes:
    """The PDF of `cards`. Uncompressed (a few kilobytes a page), so its text can be checked."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=0, invariant=1)
    pdf.setTitle(f"Sign-in cards · {class_name}")
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN) / COLUMNS
    card_h = (page_h - 2 * MARGIN) / ROWS
    for index, card in enumerate(cards):
        slot = index % (COLUMNS * ROWS)
        if index and slot == 0:
            pdf.showPage()
        x = MARGIN + (slot % COLUMNS) * card_w
        y = page_h - MARGIN - (slot // COLUMNS + 1) * card_h
        pdf.setDash(3, 3)
        pdf.rect(x + 2 * mm, y + 2 * mm, card_w - 4 * mm, card_h - 4 * mm)
        left, line = x + 8 * mm, y + card_h - 14 * mm
        width = card_w - 16 * mm
        _fitted(pdf, left, line, card.name, "Helvetica-Bold", 16, width)
        _fitted(pdf, left, line - 6 * mm, school, "Helvetica", 10, width)
        # The address on a line of its own, the card's whole width: a school's address is
        # longer than the space beside a label.
        _fitted(pdf, left, line - 13 * mm, "Go to", "Helvetica", 9, width)
        _fitted(pdf, left, line - 18 * mm, signin_url, "Helvetica", 12, width)
        rows = [("Class code", class_code), ("Username", card.username), ("Your code", card.pin)]
        for number, (label, value) in enumerate(rows):
            top = line - (26 + 8 * number) * mm
            _fitted(pdf, left, top, label, "Helvetica", 9, width)
            _fitted(pdf, left + 24 * mm, top, value, "Courier-Bold", 13, width - 24 * mm)
    if not cards:
        pdf.setFont("Helvetica", 12)
        pdf.drawString(MARGIN, page_h - MARGIN - 12, "This class has no students without email.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _fitted(pdf, x: float, y: float, text: str, font: str, size: float, width: float) -> None:
    """`text` at `size` points, or smaller when that is wider than `width`: a long name or
    address stays inside its card instead of running into the next one."""
    natural = stringWidth(text, font, size)
    pdf.setFont(font, size if natural <= width else size * width / natural)
    pdf.drawString(x, y, text)

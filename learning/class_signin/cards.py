"""Printed sign-in cards: one A4 PDF, eight cards a page (reportlab), each with the student's
name, username and personal code, the school's sign-in address and the class code."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
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
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(left, line, card.name)
        pdf.setFont("Helvetica", 10)
        pdf.drawString(left, line - 7 * mm, school)
        rows = [
            ("Go to", signin_url),
            ("Class code", class_code),
            ("Username", card.username),
            ("Your code", card.pin),
        ]
        for number, (label, value) in enumerate(rows):
            top = line - (17 + 9 * number) * mm
            pdf.setFont("Helvetica", 9)
            pdf.drawString(left, top, label)
            pdf.setFont("Courier-Bold" if label != "Go to" else "Helvetica", 13)
            pdf.drawString(left + 24 * mm, top, value)
    if not cards:
        pdf.setFont("Helvetica", 12)
        pdf.drawString(MARGIN, page_h - MARGIN - 12, "This class has no students without email.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()

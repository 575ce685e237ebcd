"""Label stock and the drawing every label shares: text that fits, Code 128 and QR symbols, the boxed DIN.

A label is drawn by a function of a `Pen` (a canvas placed at the label's corner, with its size). `render_pdf`
puts one label per page on thermal stock, or several per page on a sheet of labels, in reading order.

Barcodes come from reportlab's own widgets: Code 128 (with the shortest mix of code sets) and QR (error correction
level M). A Code 128 symbol keeps a quiet zone of 10 modules each side and a module (X dimension) of 0.25 mm,
two dots of a 203 dpi thermal printer, narrowed to fit when the data is long (ISBT 128 labels use 0.17-0.25 mm).
"""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import reportlab
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# Bitstream Vera ships with reportlab: a TrueType font (embedded, subset) covers names that the 14 standard PDF
# fonts cannot (Ł, Ş, €...), and ≤ and ° in storage lines.
REGULAR, BOLD, MONO = "Vera", "VeraBd", "Courier-Bold"

X_DIMENSION = 0.25 * mm
QUIET_MODULES = 10


@cache
def register_fonts() -> None:
    fonts = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(REGULAR, str(fonts / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(fonts / "VeraBd.ttf")))


@dataclass(frozen=True)
class Stock:
    """Label stock: the page, the label, and how many labels a page holds (columns x rows, from the top left)."""

    code: str
    description: str
    page: tuple[float, float]
    label: tuple[float, float]
    columns: int = 1
    rows: int = 1
    left: float = 0
    top: float = 0
    column_gap: float = 0
    row_gap: float = 0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origins(self) -> list[tuple[float, float]]:
        """The bottom-left corner of each label on a page, in reading order."""
        width, height = self.label
        return [
            (
                self.left + column * (width + self.column_gap),
                self.page[1] - self.top - (row + 1) * height - row * self.row_gap,
            )
            for row in range(self.rows)
            for column in range(self.columns)
        ]


THERMAL_4X2 = Stock("4x2in", "4 x 2 in thermal label, one per page", (4 * inch, 2 * inch), (4 * inch, 2 * inch))
THERMAL_100X50 = Stock("100x50mm", "100 x 50 mm thermal label, one per page", (100 * mm, 50 * mm), (100 * mm, 50 * mm))
# Sheets of 10, the common layouts of A4 (99.1 x 57 mm) and US Letter (4 x 2 in) address labels.
A4_SHEET = Stock(
    "a4",
    "A4 sheet of 10 labels, 99.1 x 57 mm",
    A4,
    (99.1 * mm, 57 * mm),
    columns=2,
    rows=5,
    left=4.65 * mm,
    top=6 * mm,
    column_gap=2.5 * mm,
)
LETTER_SHEET = Stock(
    "letter",
    "US Letter sheet of 10 labels, 4 x 2 in",
    LETTER,
    (4 * inch, 2 * inch),
    columns=2,
    rows=5,
    left=0.15625 * inch,
    top=0.5 * inch,
    column_gap=0.1875 * inch,
)
# An adult wristband: a 1 x 11 in band; the text sits clear of the clasp end.
BAND = (11 * inch, 1 * inch)
WRISTBAND = Stock("wristband", "1 x 11 in patient wristband, one per page", BAND, BAND)

LABEL_STOCKS = {stock.code: stock for stock in (THERMAL_4X2, THERMAL_100X50, A4_SHEET, LETTER_SHEET)}
WRISTBAND_STOCKS = {WRISTBAND.code: WRISTBAND, **LABEL_STOCKS}


@dataclass
class Pen:
    """A canvas placed at a label's bottom-left corner: coordinates are the label's own, in points."""

    canvas: Canvas
    width: float
    height: float

    def fitted_size(self, text: str, font: str, size: float, width: float, *, smallest: float = 5) -> float:
        while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
            size -= 0.25
        return size

    def text(self, x: float, y: float, text: str, *, font: str = REGULAR, size: float = 7, width: float = 0) -> float:
        """Draw `text` with its baseline at y, shrunk (down to 5 pt) to fit `width`, then cut with an ellipsis;
        return the width drawn."""
        if width:
            size = self.fitted_size(text, font, size, width)
            while text and pdfmetrics.stringWidth(text, font, size) > width:
                text = text[:-2] + "…"
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, y, text)
        return pdfmetrics.stringWidth(text, font, size)

    def band(self, x: float, y: float, width: float, height: float, text: str, *, size: float = 8) -> None:
        """White bold text on a black band: what must not be missed ("FOR AUTOLOGOUS USE ONLY")."""
        self.canvas.setFillGray(0)
        self.canvas.rect(x, y, width, height, stroke=0, fill=1)
        self.canvas.setFillGray(1)
        size = self.fitted_size(text, BOLD, size, width - 2 * mm)
        self.canvas.setFont(BOLD, size)
        self.canvas.drawCentredString(x + width / 2, y + (height - size * 0.72) / 2, text)
        self.canvas.setFillGray(0)

    def code128(self, x: float, y: float, data: str, *, height: float, width: float) -> float:
        """A Code 128 symbol of `data` with its quiet zones, at most `width` wide; return its width. Data a
        scanner could not give back as it is (not printable ASCII) gets no symbol (0 is returned)."""
        if not (data.isascii() and data.isprintable()):
            return 0
        bars = code128.Code128(data, barWidth=1, barHeight=height, humanReadable=False, quiet=False).width
        module = min(X_DIMENSION, width / (bars + 2 * QUIET_MODULES))
        quiet = QUIET_MODULES * module
        symbol = code128.Code128(
            data, barWidth=module, barHeight=height, humanReadable=False, quiet=True, lquiet=quiet, rquiet=quiet
        )
        symbol.drawOn(self.canvas, x, y)
        return symbol.width

    def qr(self, x: float, y: float, data: str, *, size: float) -> None:
        """A QR code of `data` (error correction M, a quiet zone of 4 modules) in a square of `size`."""
        widget = qr.QrCodeWidget(data, barLevel="M", barBorder=4)
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, self.canvas, x, y)

    def boxed(self, x: float, y: float, char: str, *, size: float) -> float:
        """A character in a box (the DIN's check character, for keyboard entry); return the box's width."""
        side = size * 1.05
        self.canvas.setLineWidth(0.8)
        self.canvas.rect(x, y - size * 0.22, side, side, stroke=1, fill=0)
        self.canvas.setFont(MONO, size)
        self.canvas.drawCentredString(x + side / 2, y, char)
        return side


Draw = Callable[[Pen], None]


def render_pdf(labels: Sequence[Draw], *, stock: Stock, title: str) -> bytes:
    """One PDF of the labels on `stock`: one per page on thermal stock, several per page on a sheet."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=stock.page, pageCompression=1, invariant=1)
    canvas.setTitle(title)
    canvas.setCreator("Vein-to-vein tracker")
    origins = stock.origins()
    for index, draw in enumerate(labels):
        if index and index % stock.per_page == 0:
            canvas.showPage()
        x, y = origins[index % stock.per_page]
        canvas.saveState()
        canvas.translate(x, y)
        draw(Pen(canvas=canvas, width=stock.label[0], height=stock.label[1]))
        canvas.restoreState()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()

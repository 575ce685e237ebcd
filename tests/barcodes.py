"""Read a PDF as a scanner and a person would: PDFium rasterises each page, zxing-cpp decodes every barcode on it,
and the page's text is extracted."""

from dataclasses import dataclass

import pypdfium2
import zxingcpp

# 300 dpi: a 0.25 mm module is 3 pixels, as on a 300 dpi label printer.
DPI = 300


@dataclass(frozen=True)
class Symbol:
    format: str  # "Code128", "QRCode"
    text: str


@dataclass(frozen=True)
class Page:
    symbols: list[Symbol]
    text: str
    width_pt: float
    height_pt: float

    def texts(self, fmt: str) -> list[str]:
        return [s.text for s in self.symbols if s.format == fmt]


def read_pdf(pdf: bytes, *, dpi: int = DPI) -> list[Page]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            image = page.render(scale=dpi / 72).to_pil()
            symbols = [Symbol(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)]
            textpage = page.get_textpage()
            pages.append(Page(symbols, textpage.get_text_range(), page.get_width(), page.get_height()))
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()

"""The self-contained HTML report: embedded images, escaped text, tables, no external assets."""

import base64
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from tokzoo.bench.html import HtmlReport, format_cell
from tokzoo.core.errors import DataError

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


def embedded_pngs(text: str) -> list[np.ndarray]:
    return [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(m))))
        for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    ]


def test_images_round_trip_through_the_page(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    report = HtmlReport("t")
    report.image(arr, caption="array")
    report.image(Image.fromarray(arr), caption="pil")
    report.image(torch.from_numpy(arr).permute(2, 0, 1).float() / 255, caption="tensor")
    path = report.write(tmp_path / "r.html")
    pngs = embedded_pngs(path.read_text())
    assert len(pngs) == 3
    for png in pngs:
        assert np.array_equal(png, arr)  # lossless: what the reader sees is what was measured


def test_text_is_escaped_and_page_has_no_external_assets(tmp_path):
    report = HtmlReport("<script>alert(1)</script>")
    report.heading("a & b", level=3)
    report.paragraph('see <img src="https://example.com/x.png">')
    report.table([{"name": "<b>", "psnr": 21.123456, "ms_ssim": None}], caption="c")
    text = report.write(tmp_path / "r.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<h3>a &amp; b</h3>" in text
    assert not EXTERNAL.search(text)
    assert "url(" not in text and "<script" not in text and "<link" not in text  # no fetched CSS, fonts, code
    assert "<td>21.12</td>" in text and "<td>unavailable</td>" in text


def test_table_columns_default_to_first_appearance():
    report = HtmlReport("t")
    report.table([{"a": 1, "b": 2}, {"c": 3, "a": 4}])
    text = report.render()
    assert text.index("<th>a</th>") < text.index("<th>b</th>") < text.index("<th>c</th>")
    assert "<td>4</td>" in text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "unavailable"),
        (0.123456, "0.1235"),
        (3, "3"),
        ({"mean": 1.0, "ci95_low": 0.5, "ci95_high": 1.5, "n": 3}, "1 [0.5, 1.5]"),
    ],
)
def test_format_cell(value, shown):
    assert format_cell(value) == shown


def test_bad_image_is_a_clear_error():
    with pytest.raises(DataError, match=r"\(3, H, W\)"):
        HtmlReport("t").image(torch.zeros(1, 4, 4))
    with pytest.raises(DataError, match="uint8"):
        HtmlReport("t").image(np.zeros((4, 4), dtype=np.float32))


def test_write_is_atomic_and_overwrites(tmp_path):
    path = tmp_path / "r.html"
    HtmlReport("first").write(path)
    HtmlReport("second").write(path)
    assert "second" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left behind

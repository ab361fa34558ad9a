"""The README's Python example runs as written (on a small checkpoint and a generated photo)."""

import re
from pathlib import Path

import numpy as np
from PIL import Image

import tokzoo

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    code = re.search(r"## Python API\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    tokzoo.create("vq-f8-s", ch=8).save_pretrained("runs/demo/model")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8)).save("photo.jpg")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["tokens"].nbits() == 2560
    assert namespace["x_hat"].shape == (1, 3, 128, 128)
    assert Path("my_tokenizer/model.safetensors").is_file()

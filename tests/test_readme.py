"""The README's promises: its ten-line example runs and does what its comments say."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_ten_line_example_runs_and_reaches_full_accuracy(capsys):
    text = README.read_text()
    code = re.search(r"## Ten lines\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["history"].accuracy[-1] == 1.0
    a, b = namespace["a"], namespace["b"]
    assert abs(a.grad - (b.data + 1) * (1 - namespace["c"].data ** 2)) < 1e-12


def test_readme_names_the_two_setup_commands():
    text = README.read_text()
    assert "pip install . && python examples/moons.py" in text
    assert 'pip install -e ".[test,torch]" && python -m pytest -q' in text


def test_the_engine_docstring_example_holds():
    import doctest

    import engine.value

    assert doctest.testmod(engine.value).failed == 0


def test_every_local_link_and_picture_in_the_docs_exists():
    docs = [README, README.parent / "docs" / "tutorial.md"]
    for doc in docs:
        for target in re.findall(r"\]\(([^)#]+)\)", doc.read_text()):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"

"""The README's promises: its ten-line example runs and does what its comments say, its lists match the files."""

import contextlib
import io
import math
import re
from pathlib import Path

from tests.test_tutorial import expected_output, shows

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent


def ten_lines() -> str:
    return re.search(r"## Ten lines\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)


def run_ten_lines() -> tuple[dict, list[str]]:
    """The namespace the ten lines leave, and the lines they print."""
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(ten_lines(), "README.md", "exec"), namespace)
    return namespace, printed.getvalue().splitlines()


def test_the_example_is_at_most_ten_lines():
    assert len(ten_lines().strip().splitlines()) <= 10


def test_ten_line_example_prints_what_its_comments_say_and_reaches_full_accuracy():
    namespace, printed = run_ten_lines()
    expected = expected_output(ten_lines())  # the same comment convention as the tutorial's snippets
    assert len(printed) == len(expected)
    for comment, line in zip(expected, printed):
        assert shows(comment, line), (line, comment)
    assert namespace["history"].accuracy[-1] == 1.0


def test_the_first_gradients_are_the_chain_rule_by_hand_and_teach_something():
    namespace, _ = run_ten_lines()
    x, w, b, o = (namespace[name] for name in ("x", "w", "b", "o"))
    do_dn = 1.0 - math.tanh(x.data * w.data + b.data) ** 2  # the slope of tanh at n = x*w + b
    assert math.isclose(x.grad, do_dn * w.data) and math.isclose(w.grad, do_dn * x.data)
    assert math.isclose(b.grad, do_dn)
    # far from tanh's flat tails: every gradient is at least 0.1, so a newcomer sees them move things
    assert min(abs(v.grad) for v in (x, w, b)) >= 0.1
    assert abs(o.data) < 0.9


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


def where_to_read() -> str:
    text = README.read_text()
    return text[text.index("## Where to read"):text.index("\n## ", text.index("## Where to read") + 1)]


def test_where_to_read_names_every_module_file_and_every_notebook():
    section = where_to_read()
    modules = [path for package in ("engine", "nn", "viz") for path in sorted((ROOT / package).glob("*.py"))
               if path.name != "__init__.py"]
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and "`notebooks/`" in section
    for path in modules + notebooks:
        assert f"`{path.name}`" in section or f"`{path.parent.name}/{path.name}`" in section, (
            f"README's 'Where to read' does not name {path.relative_to(ROOT)}"
        )


def test_where_to_read_names_no_file_that_is_gone():
    named = re.findall(r"`([\w/]+\.(?:py|ipynb|md))`", where_to_read())
    folders = [ROOT, ROOT / "nn", ROOT / "viz", ROOT / "notebooks"]  # a bare name sits in the folder its line names
    for name in named:
        gone = f"README's 'Where to read' names {name}, which is gone"
        assert any((folder / name).exists() for folder in folders), gone

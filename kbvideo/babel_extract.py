"""Babel extractor for kbvideo (used by `pybabel extract -F babel.cfg`, never at run time).

Python's own extractor finds `_()`, `N_()` and `ngettext()`; this adds the docstrings of click
commands (`@click.command` / `@click.group` functions), which click shows as `--help` text and
`kbvideo.i18n.translate_cli` translates (by their `inspect.cleandoc` form).
"""

from __future__ import annotations

import ast
import inspect


def extract(fileobj, keywords, comment_tags, options):
    from babel.messages.extract import extract_python

    data = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    try:
        tree = ast.parse(data.decode("utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not any("command" in ast.unparse(d) or "group" in ast.unparse(d) for d in node.decorator_list):
            continue
        doc = ast.get_docstring(node, clean=False)
        if doc:
            yield node.body[0].lineno, None, help_msgid(doc), []


def help_msgid(text: str) -> str:
    """The form under which a command's help text is looked up in the catalog."""
    return inspect.cleandoc(text)

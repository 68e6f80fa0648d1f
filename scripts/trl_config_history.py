"""Regenerates schemas/trl-grpo-history.json: the fields of GRPOConfig in every TRL release with a
GRPOTrainer (0.14.0 and later), read statically from each release's own `trl/trainer/grpo_config.py`
(and the TRL base classes it extends) in its wheel from PyPI. Nothing is imported or installed.

    python scripts/trl_config_history.py [--wheels DIR]

For each field the JSON holds the releases it exists in (as ranges of consecutive releases), its
type annotation and its default, each as a list of [first release, value] changes. A default that
is not a literal is kept as its source text under "code". A field of transformers' TrainingArguments
that some releases redeclare (to change its default) is marked "inherited": it exists in all.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "schemas" / "trl-grpo-history.json"
FIRST = (0, 14, 0)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def releases() -> list[str]:
    """Every final release on PyPI from 0.14.0 on, oldest first."""
    listing = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "trl"], capture_output=True, text=True, check=True).stdout
    versions = re.search(r"Available versions:(.*)", listing).group(1)
    found = [v.strip() for v in versions.split(",") if re.fullmatch(r"\d+\.\d+\.\d+", v.strip())]
    return sorted((v for v in found if version_key(v) >= FIRST), key=version_key)


def wheel(version: str, cache: Path) -> Path:
    found = next(cache.glob(f"trl-{version}-*.whl"), None)
    if found is None:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", f"trl=={version}", "--no-deps", "-d", str(cache)], check=True)
        found = next(cache.glob(f"trl-{version}-*.whl"))
    return found


def literal(node: ast.expr | None, source: str):
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        if isinstance(node, ast.Lambda):  # default_factory=lambda: [...]
            return literal(node.body, source)
        return {"code": ast.get_source_segment(source, node)}


def class_fields(archive: zipfile.ZipFile, module_path: str, class_name: str) -> dict[str, dict]:
    """The annotated fields of `class_name` in `module_path`, after those of its TRL base classes."""
    source = archive.read(module_path).decode("utf-8")
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    fields: dict[str, dict] = {}
    for base in cls.bases:
        name = base.id if isinstance(base, ast.Name) else None
        origin = next(
            (n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level and any(a.name == name for a in n.names)),
            None,
        )
        if origin is not None:
            package = module_path.rsplit("/", origin.level)[0]
            fields.update(class_fields(archive, f"{package}/{origin.module.replace('.', '/')}.py", name))
    for statement in cls.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        default = statement.value
        if isinstance(default, ast.Call) and getattr(default.func, "id", None) == "field":
            keywords = {k.arg: k.value for k in default.keywords}
            default = keywords.get("default", keywords.get("default_factory"))
        fields[statement.target.id] = {
            "type": ast.get_source_segment(source, statement.annotation),
            "default": literal(default, source),
        }
    return fields


def release_fields(path: Path) -> dict[str, dict]:
    with zipfile.ZipFile(path) as archive:
        return class_fields(archive, "trl/trainer/grpo_config.py", "GRPOConfig")


def changes(values: list[tuple[str, object]]) -> list[list]:
    out: list[list] = []
    for version, value in values:
        if not out or out[-1][1] != value:
            out.append([version, value])
    return out


def training_arguments_fields() -> set[str]:
    """TrainingArguments' fields (the installed transformers'): a release's GRPOConfig may redeclare one
    to change its default, but the field exists in every release whether redeclared or not."""
    import dataclasses

    from transformers import TrainingArguments

    return {f.name for f in dataclasses.fields(TrainingArguments)}


def history(per_release: dict[str, dict[str, dict]], inherited: set[str]) -> dict:
    order = list(per_release)
    names = sorted({name for fields in per_release.values() for name in fields})
    fields = {}
    for name in names:
        present = [v for v in order if name in per_release[v]]
        ranges, start, previous = [], None, None
        for version in order:
            if name in per_release[version]:
                start = start or version
                previous = version
            elif start:
                ranges.append([start, previous])
                start = None
        if start:
            ranges.append([start, previous])
        fields[name] = {
            **({"inherited": True} if name in inherited else {}),
            "in": ranges,
            "type": changes([(v, per_release[v][name]["type"]) for v in present]),
            "default": changes([(v, per_release[v][name]["default"]) for v in present]),
        }
    return {"releases": order, "fields": fields}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, default=REPO_ROOT / "test" / "fixtures" / "generated" / "trl-wheels")
    args = parser.parse_args()
    per_release = {version: release_fields(wheel(version, args.wheels)) for version in releases()}
    result = history(per_release, training_arguments_fields())
    OUTPUT.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUTPUT.relative_to(REPO_ROOT)}: {len(per_release)} releases, {len(result['fields'])} fields")


if __name__ == "__main__":
    main()

"""Describes the fields a TRL GRPO run config may hold, from the installed TRL's own dataclasses.

`python grpo_studio_schema.py [extra_module.py]` prints JSON: {"trl": version, "fields": {name:
{"group", "type", "default", "help"}}}. The groups are the four dataclasses `trl grpo --config`
parses with TrlParser (script args, GRPOConfig, ModelConfig, dataset mixture), and the options of
`accelerate launch`, which `trl grpo` hands the remaining keys to. GRPO Studio uses it to validate
run configs, explain fields and complete them.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return None


def describe(cls: type, group: str) -> dict[str, Any]:
    fields = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            default = plain(field.default)
        elif field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = plain(field.default_factory())  # type: ignore[misc]
        else:
            default = None
        fields[field.name] = {
            "group": group,
            "type": field.type.__name__ if isinstance(field.type, type) else str(field.type).replace("typing.", ""),
            "default": default,
            "help": str(field.metadata.get("help", "")).strip(),
        }
    return fields


def describe_accelerate_launch(taken: dict[str, Any]) -> dict[str, Any]:
    """The `accelerate launch` options a run config may hold (`trl grpo` hands them over: num_processes,
    config_file for DeepSpeed/FSDP, ...), where no dataclass field has the name."""
    from accelerate.commands.launch import launch_command_parser

    fields = {}
    for action in launch_command_parser()._actions:
        name = next((o[2:] for o in action.option_strings if o.startswith("--") and "-" not in o[2:]), None)
        if name is None or name == "help" or name in taken:
            continue
        is_flag = action.nargs == 0
        fields[name] = {
            "group": "accelerate launch",
            "type": "bool" if is_flag else getattr(action.type, "__name__", "str"),
            "default": plain(action.default),
            "help": " ".join(str(action.help or "").split()),
        }
    return fields


def main() -> None:
    import trl
    from trl import GRPOConfig, ModelConfig
    from trl.scripts.grpo import GRPOScriptArguments
    from trl.scripts.utils import DatasetMixtureConfig

    fields: dict[str, Any] = {}
    for cls, group in ((DatasetMixtureConfig, "dataset"), (ModelConfig, "model"), (GRPOConfig, "GRPOConfig"), (GRPOScriptArguments, "script")):
        fields.update(describe(cls, group))
    fields.update(describe_accelerate_launch(fields))
    print(json.dumps({"trl": trl.__version__, "fields": dict(sorted(fields.items()))}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

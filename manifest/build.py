"""Build and validate the Omtanke Teams app package (appPackage.zip) from manifest/."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from PIL import Image, ImageStat, UnidentifiedImageError

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = Path(__file__).resolve().parent
TEMPLATE_NAME = "manifest.template.json"
LOCALES_DIR = "locales"
PACKAGE_NAME = "appPackage.zip"
DEFAULT_OUT = TEMPLATE_DIR / "build" / PACKAGE_NAME
SCHEMA_DIR_ENV = "OMTANKE_MANIFEST_SCHEMA_DIR"
# Shipped by the npm package @microsoft/app-manifest; `npm ci` installs it, nothing is copied here.
DEFAULT_SCHEMA_DIR = REPO_ROOT / "node_modules/@microsoft/app-manifest/build/json-schemas/teams"
MANIFEST_SCHEMA = "MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = "MicrosoftTeams.Localization.schema.json"
COLOR_ICON_SIZE = (192, 192)
OUTLINE_ICON_SIZE = (32, 32)
# Share of fully opaque pixels the colour icon needs; rounded corners may stay transparent.
MIN_COLOR_OPACITY = 0.75
# Fixed zip timestamps make the package byte-for-byte reproducible.
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
DEFAULT_WEBSITE = "https://vardgivare.regionhalland.se/organisation-och-uppdrag/god-och-nara-vard/"
PLACEHOLDER = re.compile(r"\$\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
HOST_NAME = re.compile(
    r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:[0-9]{1,5})?$"
)


class ManifestError(Exception):
    """The app package cannot be built: the message names the variable, field or file."""


@dataclass(frozen=True)
class Placeholder:
    """Where one `${{NAME}}` placeholder takes its value from."""

    env: tuple[str, ...]
    default: str | None = None
    check: Callable[[str], str | None] | None = None
    # An optional placeholder without a value removes the list item it stands in.
    optional: bool = False


def _check_guid(value: str) -> str | None:
    """Say why value is not a GUID, or return None."""
    return None if GUID.match(value) else f"{value!r} is not a valid GUID"


def _check_semver(value: str) -> str | None:
    """Say why value is not a MAJOR.MINOR.PATCH version, or return None."""
    return None if SEMVER.match(value) else f"{value!r} is not a version like 1.0.0"


def _check_host(value: str) -> str | None:
    """Say why value is not a bare host name, or return None."""
    if HOST_NAME.match(value):
        return None
    return f"{value!r} must be a host name like omtanke.example.se (no https://, no path)"


def _check_https(value: str) -> str | None:
    """Say why value is not an https URL, or return None."""
    return None if value.lower().startswith("https://") else f"{value!r} must start with https://"


PLACEHOLDERS: dict[str, Placeholder] = {
    "BOT_ID": Placeholder(("MicrosoftAppId",), check=_check_guid),
    "TEAMS_APP_ID": Placeholder(("OMTANKE_TEAMS_APP_ID", "MicrosoftAppId"), check=_check_guid),
    "APP_VERSION": Placeholder(("OMTANKE_APP_VERSION",), "1.0.0", _check_semver),
    "BOT_DOMAIN": Placeholder(("OMTANKE_BOT_DOMAIN",), check=_check_host, optional=True),
    "DEVELOPER_NAME": Placeholder(("OMTANKE_DEVELOPER_NAME",), "Region Halland"),
    "DEVELOPER_WEBSITE_URL": Placeholder(
        ("OMTANKE_DEVELOPER_WEBSITE_URL",), DEFAULT_WEBSITE, _check_https
    ),
    "DEVELOPER_PRIVACY_URL": Placeholder(
        ("OMTANKE_DEVELOPER_PRIVACY_URL", "OMTANKE_DEVELOPER_WEBSITE_URL"),
        DEFAULT_WEBSITE,
        _check_https,
    ),
    "DEVELOPER_TERMS_URL": Placeholder(
        ("OMTANKE_DEVELOPER_TERMS_URL", "OMTANKE_DEVELOPER_WEBSITE_URL"),
        DEFAULT_WEBSITE,
        _check_https,
    ),
}

_MISSING = object()


def resolve_placeholders(settings_env: Mapping[str, str]) -> dict[str, str | None]:
    """Return each placeholder's value from the environment; None for an unset optional one."""
    values: dict[str, str | None] = {}
    for name, spec in PLACEHOLDERS.items():
        source = next((v for v in spec.env if settings_env.get(v, "").strip()), None)
        value = settings_env[source].strip() if source else spec.default
        if value is None:
            if spec.optional:
                values[name] = None
                continue
            raise ManifestError(f"no value for ${{{{{name}}}}}: set {' or '.join(spec.env)}")
        problem = spec.check(value) if spec.check else None
        if problem:
            raise ManifestError(f"{source or spec.env[0]}: {problem}")
        values[name] = value
    return values


def fill_placeholders(document: Any, values: Mapping[str, str | None], file_name: str) -> Any:
    """Return a copy of document with every `${{NAME}}` in its strings replaced."""

    def fill(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            return {key: fill(value, _join(where, key)) for key, value in node.items()}
        if isinstance(node, list):
            items = [fill(item, f"{where}[{i}]") for i, item in enumerate(node)]
            return [item for item in items if item is not _MISSING]
        if isinstance(node, str):
            return fill_string(node, where)
        return node

    def fill_string(text: str, where: str) -> Any:
        names = PLACEHOLDER.findall(text)
        for name in names:
            if name not in values:
                raise ManifestError(
                    f"unknown placeholder ${{{{{name}}}}} at {where or '(root)'} in {file_name}; "
                    f"known: {', '.join(sorted(values))}"
                )
        if any(values[name] is None for name in names):
            return _MISSING
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)

    filled = fill(document, "")
    # A list that lost its only item (validDomains without a domain) is left out entirely.
    if isinstance(filled, dict):
        return {k: v for k, v in filled.items() if not (v == [] and document.get(k) != [])}
    return filled


def _join(where: str, key: str) -> str:
    """Join a JSON path and a key the way error messages show it."""
    return f"{where}.{key}" if where else key


def _path_text(path: Sequence[Any]) -> str:
    """Render a jsonschema error path as bots[0].botId."""
    text = ""
    for part in path:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, str(part))
    return text or "(root)"


def _describe_error(error: ValidationError) -> str:
    """Turn one jsonschema error into a message that names the field and the problem."""
    where = _path_text(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        # Localization files allow keys by pattern, so only report keys no pattern accepts.
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = [key for key in extra if not any(p.search(key) for p in patterns)]
        names = ", ".join(repr(key) for key in extra) or "?"
        return f"unknown field {names} at {where}"
    if error.validator == "pattern" and error.validator_value == GUID.pattern:
        return f"{where}: {error.instance!r} is not a valid GUID"
    return f"{where}: {error.message}"


def _load_json(path: Path) -> Any:
    """Read a JSON file or raise ManifestError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise ManifestError(f"{path} is missing") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} cannot be read as JSON: {exc}") from exc


def schema_dir_for(settings_env: Mapping[str, str], schema_dir: Path | None = None) -> Path:
    """Return the folder holding Microsoft's Teams schemas (v1.xx subfolders)."""
    if schema_dir is None:
        configured = settings_env.get(SCHEMA_DIR_ENV, "").strip()
        schema_dir = Path(configured) if configured else DEFAULT_SCHEMA_DIR
    if not schema_dir.is_dir():
        raise ManifestError(
            f"Teams manifest schemas not found at {schema_dir}: run `npm ci` in {REPO_ROOT} "
            f"(they come from the npm package @microsoft/app-manifest), or set {SCHEMA_DIR_ENV}"
        )
    return schema_dir


def validate_json(document: Any, schema_path: Path, file_name: str) -> None:
    """Validate document against a JSON schema file; raise ManifestError listing every problem."""
    schema = _load_json(schema_path)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(
        validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        lines = "\n".join(f"  {_describe_error(e)}" for e in errors)
        raise ManifestError(
            f"{file_name} does not match {schema_path.parent.name} schema:\n{lines}"
        )


def _manifest_keys(manifest: Any, prefix: str = "") -> Iterator[str]:
    """Yield every localizable path of the manifest, as localization files write them."""
    if isinstance(manifest, dict):
        for key, value in manifest.items():
            yield from _manifest_keys(value, _join(prefix, key))
    elif isinstance(manifest, list):
        for i, value in enumerate(manifest):
            yield from _manifest_keys(value, f"{prefix}[{i}]")
    else:
        yield prefix


def check_localization(localization: Mapping[str, Any], manifest: Any, file_name: str) -> None:
    """Check that every key of a localization file names a string in the manifest."""
    known = set(_manifest_keys(manifest))
    unknown = [
        k for k in localization if k not in ("$schema", "localizationKeys") and k not in known
    ]
    if unknown:
        raise ManifestError(f"{file_name}: keys not in the manifest: {', '.join(unknown)}")


def _open_png(path: Path) -> Image.Image:
    """Open a PNG file or raise ManifestError naming it."""
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError as exc:
        raise ManifestError(f"{path.name} is missing (looked in {path.parent})") from exc
    except (OSError, UnidentifiedImageError) as exc:
        raise ManifestError(f"{path.name} cannot be read as an image: {exc}") from exc
    if image.format != "PNG":
        raise ManifestError(f"{path.name} is {image.format}, must be PNG")
    return image


def _check_size(image: Image.Image, name: str, expected: tuple[int, int]) -> None:
    """Raise ManifestError unless the image has exactly the expected size."""
    if image.size != expected:
        raise ManifestError(
            f"{name} is {image.width}×{image.height}, must be {expected[0]}×{expected[1]}"
        )


def check_color_icon(path: Path) -> None:
    """Check the colour icon: PNG, 192×192, mostly opaque."""
    image = _open_png(path)
    _check_size(image, path.name, COLOR_ICON_SIZE)
    alpha = image.convert("RGBA").getchannel("A")
    opaque = alpha.point(lambda a: 255 if a == 255 else 0)
    share = ImageStat.Stat(opaque).mean[0] / 255
    if share < MIN_COLOR_OPACITY:
        raise ManifestError(
            f"{path.name} is only {share:.0%} opaque; the colour icon needs a solid background "
            f"(at least {MIN_COLOR_OPACITY:.0%} opaque pixels)"
        )


def check_outline_icon(path: Path) -> None:
    """Check the outline icon: PNG, 32×32, white on a transparent background."""
    image = _open_png(path)
    _check_size(image, path.name, OUTLINE_ICON_SIZE)
    if "A" not in image.getbands() and not (image.mode == "P" and "transparency" in image.info):
        raise ManifestError(f"{path.name} has no transparency; it must be white on transparent")
    rgba = image.convert("RGBA")
    data = rgba.tobytes()
    for index in range(0, len(data), 4):
        r, g, b, a = data[index : index + 4]
        if a and (r, g, b) != (255, 255, 255):
            x, y = divmod(index // 4, rgba.width)[::-1]
            raise ManifestError(
                f"{path.name} has a non-white pixel at ({x}, {y}): #{r:02x}{g:02x}{b:02x} "
                f"with alpha {a}; it must be only white on a transparent background"
            )
    if not any(data[3::4]):
        raise ManifestError(f"{path.name} is fully transparent")


def _language_files(manifest: Mapping[str, Any]) -> list[str]:
    """Return the localization file names the manifest refers to."""
    info = manifest.get("localizationInfo", {})
    files = [lang["file"] for lang in info.get("additionalLanguages", [])]
    if "defaultLanguageFile" in info:
        files.append(info["defaultLanguageFile"])
    return files


def _zip_bytes(entries: Mapping[str, bytes]) -> bytes:
    """Pack the files flat into a reproducible zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def build_package(
    settings_env: Mapping[str, str],
    out_path: Path,
    template_dir: Path | None = None,
    *,
    schema_dir: Path | None = None,
) -> Path:
    """Fill, check and validate the manifest, then write the app package zip and return its path."""
    template_dir = TEMPLATE_DIR if template_dir is None else template_dir
    schemas = schema_dir_for(settings_env, schema_dir)
    template = _load_json(template_dir / TEMPLATE_NAME)
    if not isinstance(template, dict):
        raise ManifestError(f"{template_dir / TEMPLATE_NAME} must hold a JSON object")
    values = resolve_placeholders(settings_env)
    manifest = fill_placeholders(template, values, TEMPLATE_NAME)

    version = str(manifest.get("manifestVersion", ""))
    version_dir = schemas / f"v{version}"
    if not (version_dir / MANIFEST_SCHEMA).is_file():
        raise ManifestError(
            f"no schema for manifestVersion {version!r} in {schemas}: run `npm ci` in {REPO_ROOT}"
        )
    validate_json(manifest, version_dir / MANIFEST_SCHEMA, "manifest.json")

    entries: dict[str, bytes] = {
        "manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    }
    icons = manifest["icons"]
    for role, check in (("color", check_color_icon), ("outline", check_outline_icon)):
        icon_path = template_dir / icons[role]
        check(icon_path)
        entries[Path(icons[role]).name] = icon_path.read_bytes()
    for file_name in _language_files(manifest):
        source = template_dir / LOCALES_DIR / file_name
        localization = fill_placeholders(_load_json(source), values, f"{LOCALES_DIR}/{file_name}")
        validate_json(localization, version_dir / LOCALIZATION_SCHEMA, f"{LOCALES_DIR}/{file_name}")
        check_localization(localization, manifest, f"{LOCALES_DIR}/{file_name}")
        entries[Path(file_name).name] = (
            json.dumps(localization, ensure_ascii=False, indent=2) + "\n"
        ).encode()

    target = out_path / PACKAGE_NAME if out_path.is_dir() else out_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_zip_bytes(entries))
    return target

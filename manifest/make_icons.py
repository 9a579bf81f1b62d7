"""Draw the Omtanke Teams icons: a white heart on warm teal, and its white outline."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw

COLOR_SIZE = 192
OUTLINE_SIZE = 32
# Drawn large and scaled down, which gives smooth edges without an anti-aliasing API.
SUPERSAMPLE = 8
TEAL_TOP = (20, 132, 124)
TEAL_BOTTOM = (46, 158, 112)
WARM = (246, 178, 107)
WHITE = (255, 255, 255)


def heart_polygon(cx: float, cy: float, width: float) -> list[tuple[float, float]]:
    """Return the points of a heart of the given width centred on (cx, cy)."""
    points = []
    # The classic heart curve spans x in [-16, 16] and y in about [-17, 12].
    scale = width / 32.0
    for step in range(360):
        t = 2 * math.pi * step / 360
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((cx + x * scale, cy - (y + 2.5) * scale))
    return points


def make_color_icon(size: int = COLOR_SIZE) -> Image.Image:
    """Draw the 192×192 colour icon: teal rounded square, warm halo, white heart."""
    big = size * SUPERSAMPLE
    gradient = Image.new("RGB", (1, big))
    for y in range(big):
        f = y / (big - 1)
        gradient.putpixel(
            (0, y),
            tuple(round(a + (b - a) * f) for a, b in zip(TEAL_TOP, TEAL_BOTTOM, strict=True)),
        )
    background = gradient.resize((big, big))
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 6, fill=255)
    icon = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    icon.paste(background, (0, 0), mask)

    draw = ImageDraw.Draw(icon)
    centre = big / 2
    # The halo stands for care around the person; Teams wants the symbol inside 96×96.
    halo = big * 0.30
    draw.ellipse((centre - halo, centre - halo, centre + halo, centre + halo), fill=(*WARM, 255))
    draw.polygon(heart_polygon(centre, centre, big * 0.36), fill=(*WHITE, 255))
    return icon.resize((size, size), Image.Resampling.LANCZOS)


def make_outline_icon(size: int = OUTLINE_SIZE) -> Image.Image:
    """Draw the 32×32 outline icon: a white heart outline on a transparent background."""
    big = size * SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    centre = big / 2
    draw.polygon(heart_polygon(centre, centre, big * 0.86), fill=255)
    draw.polygon(heart_polygon(centre, centre + big * 0.035, big * 0.58), fill=0)
    small = mask.resize((size, size), Image.Resampling.LANCZOS)
    # Alpha carries the shape; every pixel stays pure white, as Teams requires.
    icon = Image.new("RGBA", (size, size), (*WHITE, 0))
    icon.putalpha(small)
    return icon


def write_icons(target: Path) -> tuple[Path, Path]:
    """Write color.png and outline.png into target and return their paths."""
    color_path = target / "color.png"
    outline_path = target / "outline.png"
    make_color_icon().save(color_path, format="PNG", optimize=True)
    make_outline_icon().save(outline_path, format="PNG", optimize=True)
    return color_path, outline_path


def main(argv: list[str] | None = None) -> int:
    """Regenerate the icons beside this script, or in the folder given as argument."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(__file__).resolve().parent
    for path in write_icons(target):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

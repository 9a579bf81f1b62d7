"""fold() folds one character at a time through a table; it must equal the spelled-out
NFKD-and-drop-marks version for any text (knowledge/text.py)."""

from __future__ import annotations

import random

from knowledge.text import fold, fold_slowly

# Latin with diacritics, combining marks, ligatures, Hangul, Greek final sigma, dotted İ.
POOL = [
    chr(c)
    for c in [
        *range(32, 0x250),
        *range(0x300, 0x370),
        *range(0x1E00, 0x1F00),
        0xFB01,
        0x2460,
        0x212B,
        0xAC00,
        0x1100,
        0x3A3,
        0x130,
        0xDF,
        0x1E9E,
        0x200B,
        0xFF21,
    ]
]


def test_fold_equals_the_spelled_out_fold_on_random_text() -> None:
    rng = random.Random(20261203)
    texts = ["", "Vård och omsorg", "ÅÄÖ åäö", "Ærlig ø ß", "İstanbul", "ΟΔΟΣ", "ﬁnns"]
    texts += ["".join(rng.choice(POOL) for _ in range(rng.randint(1, 24))) for _ in range(5000)]
    assert [fold(t) for t in texts] == [fold_slowly(t) for t in texts]
    assert fold("Nära VÅRD, hemsjukvård") == "nara vard, hemsjukvard"

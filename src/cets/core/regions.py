"""Province-level administrative division codes, GB/T 2260.

The first two digits of a six-digit division code name the province. ``10`` is not a province:
it is the code registration authorities at national level (e.g. SAMR, 100000) put in a unified
social credit code; such an organisation has no provincial jurisdiction of its own.
"""

from __future__ import annotations

PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"),
    "12": ("天津市", "Tianjin"),
    "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"),
    "21": ("辽宁省", "Liaoning"),
    "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"),
    "31": ("上海市", "Shanghai"),
    "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"),
    "34": ("安徽省", "Anhui"),
    "35": ("福建省", "Fujian"),
    "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"),
    "41": ("河南省", "Henan"),
    "42": ("湖北省", "Hubei"),
    "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"),
    "45": ("广西壮族自治区", "Guangxi"),
    "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"),
    "51": ("四川省", "Sichuan"),
    "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Tibet"),
    "61": ("陕西省", "Shaanxi"),
    "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"),
    "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"),
    "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"),
    "82": ("澳门特别行政区", "Macao"),
}

NATIONAL_LEVEL = "10"


def province_of(region_code: str) -> str | None:
    """Province code (two digits) of a six-digit division code; ``None`` for national level.

    Raises ``ValueError`` when the first two digits are no province of GB/T 2260.
    """
    prefix = region_code[:2]
    if prefix == NATIONAL_LEVEL:
        return None
    if prefix not in PROVINCES:
        raise ValueError(f"no province {prefix!r} in GB/T 2260")
    return prefix


def province_name(code: str, lang: str = "zh") -> str:
    zh, en = PROVINCES[code]
    return zh if lang.startswith("zh") else en

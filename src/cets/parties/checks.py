"""Numbered parties checks: who may act (R0502, shared by every context) and the key-emitter list.

L01xx key-emitter lists (名录): compilation, import and publication (Measures (trial) Art. 8–9;
2025 notice §一).

L03xx holders that are not key emitters: natural persons and institutions (draft Measures Art. 14, 18): the
resident identity number (GB 11643-1999) and the institution's credit code (GB 32100).
"""

from cets.core.errors import Check

DENIED = Check("R0502", "无此操作权限或超出管辖范围", "operator lacks the role or jurisdiction")

L0101 = Check("L0101", "该名录已公布，不能重新生成", "the list is already published; it cannot be recompiled")
L0102 = Check("L0102", "行业不在规则包的名录行业中", "sector not among the pack's list sectors")
L0103 = Check("L0103", "名录已公布", "the list is already published")
L0104 = Check("L0104", "名录为空，不能公布", "the list is empty; nothing to publish")

L0301 = Check("L0301", "公民身份号码格式错误：须为18位（17位数字加1位数字或X）", "resident identity number must be 18 characters: 17 digits then a digit or X")
L0302 = Check("L0302", "公民身份号码地址码无效", "resident identity number: unknown address (region) code")
L0303 = Check("L0303", "公民身份号码出生日期无效", "resident identity number: date of birth is not valid")
L0304 = Check("L0304", "公民身份号码校验码错误（GB 11643-1999）", "resident identity number: wrong check character (GB 11643-1999)")
L0305 = Check("L0305", "统一社会信用代码无效（GB 32100-2015）", "unified social credit code is not valid (GB 32100-2015)")
L0306 = Check("L0306", "该证件号码已登记为持有人", "a holder with this identity number or credit code already exists")

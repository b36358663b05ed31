"""Numbered parties checks: who may act (R0502, shared by every context) and the key-emitter list.

L01xx key-emitter lists (名录): compilation, import and publication (Measures (trial) Art. 8–9;
2025 notice §一).

L02xx the second factor: what a user of :data:`cets.parties.access.SECOND_FACTOR_ROLES` may do only in a session
verified with its TOTP device (orders on the exchange, surrender applications and decisions; the registry's own
operations refuse with R0505).

L03xx holders that are not key emitters: natural persons and institutions (draft Measures Art. 14, 18): the
resident identity number (GB 11643-1999) and the institution's credit code (GB 32100).

L05xx enrolling the second factor (``/security/second-factor/``, :func:`cets.parties.services.totp_device_enrol_start`
and ``totp_device_enrol_confirm``): a user binds its own authenticator app (TOTP, RFC 6238) and replaces it only with
a current code of the old one.

L06xx the ledger's batch paths (:func:`cets.registry.services.transfer_batch_post`, the exchange's group commit).
"""

from cets.core.errors import Check

DENIED = Check("R0502", "无此操作权限或超出管辖范围", "operator lacks the role or jurisdiction")

L0101 = Check("L0101", "该名录已公布，不能重新生成", "the list is already published; it cannot be recompiled")
L0102 = Check("L0102", "行业不在规则包的名录行业中", "sector not among the pack's list sectors")
L0103 = Check("L0103", "名录已公布", "the list is already published")
L0104 = Check("L0104", "名录为空，不能公布", "the list is empty; nothing to publish")

L0201 = Check("L0201", "此操作须完成动态口令（TOTP）二次验证", "this operation needs a session verified with a second factor (TOTP)")

L0301 = Check("L0301", "公民身份号码格式错误：须为18位（17位数字加1位数字或X）", "resident identity number must be 18 characters: 17 digits then a digit or X")
L0302 = Check("L0302", "公民身份号码地址码无效", "resident identity number: unknown address (region) code")
L0303 = Check("L0303", "公民身份号码出生日期无效", "resident identity number: date of birth is not valid")
L0304 = Check("L0304", "公民身份号码校验码错误（GB 11643-1999）", "resident identity number: wrong check character (GB 11643-1999)")
L0305 = Check("L0305", "统一社会信用代码无效（GB 32100-2015）", "unified social credit code is not valid (GB 32100-2015)")
L0306 = Check("L0306", "该证件号码已登记为持有人", "a holder with this identity number or credit code already exists")

L0501 = Check("L0501", "动态口令错误：新设备未确认，请输入验证器当前显示的6位动态口令",
              "wrong dynamic code: the new device is not confirmed; type the 6-digit code your authenticator shows now")
L0502 = Check("L0502", "已绑定动态口令设备：更换须输入原设备当前的动态口令",
              "a second factor is already active: to replace it, type a current code of the old device")
L0503 = Check("L0503", "没有待确认的动态口令设备，请先开始绑定", "no device is waiting for confirmation in this session; start the enrolment first")

L0601 = Check("L0601", "同一批次中幂等键重复", "the same idempotency key twice in one batch")

# S04xx district-level jurisdictions (cets.parties.services, named jurisdictions of the market files).
S0401 = Check("S0401", "区级管辖代码无效：应为6位GB/T 2260区县代码或市场文件中登记的管辖代码",
              "invalid district-level jurisdiction: a six-digit GB/T 2260 code or a code named in a market file")
S0402 = Check("S0402", "该管辖不属于本单位所在省级行政区", "the jurisdiction is not in the organisation's province")

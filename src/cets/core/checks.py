"""Numbered checks of the shared kernel: refusals of any input, whichever context it is for.

S01xx requests: no rule pack for what was asked, a value the store cannot hold, an idempotency key
reused for another request. S02xx uploaded files (``cets.core.uploads``): size, rows, columns,
decompressed size, not a workbook. S03xx sign-in (``cets.parties.security``): locked out, wrong
second factor. S05xx operators' lists and form input: an export past its bound (``cets.core.tables.xlsx_list``), a
NUL character in a page's form or query (``cets.web.middleware.NulInputMiddleware``).
"""

from cets.core.errors import Check

S0101 = Check("S0101", "没有适用于该市场、行业和年度的规则包", "no rule pack covers this market, sector and year")
S0102 = Check("S0102", "输入值超出可存储的范围或长度", "an input value is out of the range or length that can be stored")
S0103 = Check("S0103", "该幂等键已用于另一笔请求", "this idempotency key was already used for another request")

S0201 = Check("S0201", "上传文件过大", "the uploaded file is too large")
S0202 = Check("S0202", "上传表格行数过多", "the uploaded sheet has too many rows")
S0203 = Check("S0203", "上传表格列数过多", "the uploaded sheet has too many columns")
S0204 = Check("S0204", "上传文件解压后过大", "the uploaded file is too large once decompressed")
S0205 = Check("S0205", "上传文件不是有效的 XLSX 工作簿", "the uploaded file is not a valid XLSX workbook")

S0301 = Check("S0301", "登录失败次数过多，账户或地址已被暂时锁定", "too many failed sign-ins: the account or address is locked for a while")
S0302 = Check("S0302", "动态口令（TOTP）错误", "wrong dynamic code (TOTP)")
S0303 = Check("S0303", "该角色须先绑定动态口令设备（/security/second-factor/）才能进入管理后台",
              "this role must enrol a dynamic-code (TOTP) device (/security/second-factor/) before it may use the admin")

# S05xx exports of operators' lists (``cets.core.tables.xlsx_list``) and form input (``cets.web.middleware``)
S0501 = Check("S0501", "导出行数超过上限，请缩小筛选范围后再导出", "the export has more rows than the limit: narrow the filters and export again")
S0502 = Check("S0502", "输入含有空字符（NUL），无法保存", "the input contains a NUL character, which cannot be stored")

"""Numbered registry checks. Each refusal carries one of these codes (UK/EU registry practice).

R01xx accounts · R02xx unit types · R03xx quantities · R04xx idempotency · R05xx people and approval ·
R06xx compliance use of units · R07xx reports and statements (``reports.py``) · R08xx holder protection (trusted
account list, delayed transfers) · R09xx account applications of individuals and institutions
(``services/applications.py``, draft Measures Art. 14) · R10xx serial blocks of credits · R11xx the national reserve
(Measures draft Art. 9, 23) · R12xx signing a four-eyes proposal on the registry page (review-then-sign) · R13xx payment
against delivery, paid allocation · R14xx a pilot market's free allocation proposed and approved by its bureau.
"""

from cets.core.errors import Check
from cets.parties.access import DENIED

R0101 = Check("R0101", "账户不存在", "account does not exist")
R0102 = Check("R0102", "账户已注销", "account is closed")
R0103 = Check("R0103", "账户已冻结", "account is frozen")
R0104 = Check("R0104", "账户受限，不可转出", "account is restricted: no outgoing transfers")
R0105 = Check("R0105", "转出与转入为同一持仓", "debit and credit are the same holding")
R0106 = Check("R0106", "该操作不适用于此账户类型", "operation not allowed for this account type")
R0107 = Check("R0107", "账户持有人已有本市场账户", "holder already has an account in this market")
R0108 = Check("R0108", "该笔变更已冲正", "transfer already reversed")
R0109 = Check("R0109", "账户仍有持仓，不能注销", "account still holds units; it cannot be closed")
R0110 = Check("R0110", "此类分录不可冲正", "this kind of entry cannot be reversed")
R0111 = Check("R0111", "持仓类别不允许此操作", "position not allowed for this operation")
R0201 = Check("R0201", "品种不存在", "unit type does not exist")
R0202 = Check("R0202", "该账户不可持有此品种", "unit type not allowed for this account")
R0203 = Check("R0203", "品种已存在", "unit type already exists")
R0301 = Check("R0301", "数量须为正整数", "quantity must be a positive integer")
R0302 = Check("R0302", "数量超过可用余额", "quantity exceeds available balance")
R0401 = Check("R0401", "幂等键已用于不同内容", "idempotency key reused with different content")
R0501 = Check("R0501", "审批人不得为提议人", "approver must differ from initiator")
R0502 = DENIED  # defined with the access rules it enforces
R0503 = Check("R0503", "该提议已处理", "proposal already decided")
R0504 = Check("R0504", "提议不存在", "proposal does not exist")
R0506 = Check("R0506", "该操作须经另一名登记人员审批：请提交审批提议", "this operation needs a second registry operator's approval: submit it as a proposal")
R0505 = Check("R0505", "登记操作须完成动态口令（TOTP）二次验证", "registry operations need a verified second factor (TOTP)")
R0601 = Check("R0601", "该年度配额不可用于此履约年度", "vintage not usable for this obligation")
R0602 = Check("R0602", "CCER抵销超过上限", "CCER offset exceeds its cap")
R0603 = Check("R0603", "该CCER不符合抵销条件", "CCER not eligible for offsetting")
R0604 = Check("R0604", "清缴数量超过剩余应清缴量", "quantity exceeds the remaining obligation")
R0605 = Check("R0605", "申请状态不允许此操作", "application is not in a state that allows this")
R0606 = Check("R0606", "履约义务不存在", "obligation does not exist")
R0701 = Check(
    "R0701",
    "PDF 生成组件不可用：未安装 WeasyPrint 或缺少其系统库（Pango、HarfBuzz、fontconfig），请改用 XLSX 或联系管理员",
    "PDF rendering is unavailable: WeasyPrint or its system libraries (Pango, HarfBuzz, fontconfig) are missing; use XLSX or ask the administrator",
)
R0702 = Check("R0702", "报表参数无效", "invalid report parameters")
R0703 = Check("R0703", "对账单分录过多，无法生成 PDF，请缩小日期范围或改用 XLSX",
              "too many entries for a PDF statement: narrow the date range or use XLSX")
R0901 = Check("R0901", "开户申请信息不完整或无效", "account application: a know-your-customer field is missing or not valid")
R0902 = Check("R0902", "开户申请缺少必需的证明文件", "account application: a required document is missing")
R0903 = Check("R0903", "证明文件须为 PDF、JPEG 或 PNG，且数量与大小在限额内", "documents must be PDF, JPEG or PNG, within the count and size limits")
R0904 = Check("R0904", "登录名已被使用或无效", "the login name is taken or not valid")
R0905 = Check("R0905", "登录密码至少须12位", "the login password must have at least 12 characters")
R0906 = Check("R0906", "该证件号码已有待审核的开户申请", "an application with this identity number is already under review")
R0907 = Check("R0907", "开户申请状态不允许此操作", "the application is not in a state that allows this")
R0908 = Check("R0908", "开户申请不存在", "no such account application")

# serial blocks of credits (services/blocks.py, selectors)
R1001 = Check("R1001", "序列号区块与持仓不一致", "the serial blocks do not cover the account's holding")
R1002 = Check("R1002", "序列号格式无效或不存在", "not a serial number of any block (format <unit type>-<9 digits>)")

# the national reserve (services/reserve.py)
R1101 = Check("R1101", "储备操作须列明至少一个账户与数量", "a reserve operation needs at least one account and quantity")
R1102 = Check("R1102", "价格须为正整数（分/吨）", "the price must be a positive integer (fen per tonne)")
R1103 = Check("R1103", "该账户不能参与储备操作", "this account cannot take part in a reserve operation")
R1104 = Check("R1104", "储备注入比例未在规则包中给出", "the rule pack gives no reserve share for this year")

# R08xx holder protection (issue 16): the trusted account list and delayed transfers (EU Registry Regulation
# (EU) 2019/1122 by analogy; the delays are the market's ``registry`` rule pack).
R0801 = Check("R0801", "收款账户不在本账户已生效的可信账户列表中", "the receiving account is not on this account's active trusted account list")
R0802 = Check("R0802", "该账户已在可信账户列表中", "the account is already on the trusted account list")
R0803 = Check("R0803", "只能将其他持有人的持有账户加入可信账户列表", "only another holder's holding account can be added to the trusted account list")
R0804 = Check("R0804", "该延迟转移已执行或已撤销", "the delayed transfer is no longer pending (executed or cancelled)")
R0805 = Check("R0805", "延迟转移不存在", "no such delayed transfer")
R0806 = Check("R0806", "可信账户条目不存在", "no such trusted account entry")
R0807 = Check("R0807", "工作日历未覆盖该日期，无法计算生效或执行时间",
              "the working-day calendar does not cover the date; the activation or execution time cannot be computed")

# R12xx signing a four-eyes proposal on the registry page (review-then-sign, issue 15): the approver confirms with
# the dynamic code of its own TOTP device; nothing is executed when it is refused.
R1201 = Check("R1201", "审批签署的动态口令（TOTP）错误，提案未执行", "wrong dynamic code (TOTP) at signing: the proposal was not executed")
R1202 = Check("R1202", "审批人没有已确认的动态口令设备，不能签署", "the approver has no confirmed TOTP device and cannot sign")

# R13xx payment against delivery of the registry's own sales and purchases (issue 17: the reserve's auction and
# buy-back, a provincial authority's paid allocation by auction; registry/payments.py) and opening a holder's account
# in another market.
R1301 = Check("R1301", "资金结算服务未就绪，储备或拍卖交收未执行", "no fund ledger is registered to settle: the sale or purchase was not executed")
R1302 = Check("R1302", "有偿分配拍卖须由本市场所在地的省级主管部门提出和审批",
              "a paid allocation auction is proposed and approved by the provincial authority of the market")
R1303 = Check("R1303", "该持有人尚无已开立的持有账户，不能在其他市场开户", "the holder has no open holding account yet: it cannot open one in another market")
R1305 = Check("R1305", "拍卖没有不低于底价的有效出价", "the auction has no valid bid at or above the floor price")
R1304 = Check("R1304", "该市场不为此类持有人开立账户", "this market does not open accounts for this kind of holder")

# R14xx a pilot market's free allocation proposed and approved by its provincial authority (proposal kind
# free_allocation; 京环发〔2024〕8号 三(三)2: the municipal bureau pre-issues by 07-15 and issues the final allocation by 09-15).
R1401 = Check("R1401", "试点市场免费配额发放须由本市场所在地的省级主管部门提出和审批",
              "a pilot market's free allocation is proposed and approved by that market's provincial authority")
R1402 = Check("R1402", "收回量超过账户现有持有量，多退部分不能收回，由主管部门处理",
              "the claw-back exceeds what the account holds: the shortfall cannot be returned and is left to the bureau")

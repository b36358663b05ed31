"""Numbered trading checks: every refusal code of the trading app, in both languages.

Ranges:
- T01xx order book: price, quantity, method, price band, quotes, sides (``book.py``, pure);
- T02xx order entry and the fund ledger: funds, amounts, idempotency, sessions, instruments, sellable
  units, account status, trading rights, holding limits (``services``, ``funds``);
- T03xx one-way auctions: floor price, bid limits, pricing rule, one bid per bidder (``auction.py``);
- T05xx participants and members: trading rights per holder kind and instrument (the trading pack's
  ``[trading_rights]``), exchange members and service institutions (``[members]``), a member's suspension
  (``services/members.py``);
- T04xx input at the edges: prices in CNY, idempotency keys, counterparties, API parameters
  (``prices.py``, ``entry.py``, ``api.py``);
- T06xx markets: which market an order or a read is about (``api.py``, ``selectors.trading_market``).

Imports only :mod:`cets.core.errors`, so the pure modules (``book.py``, ``auction.py``) stay pure.
The codes and texts are stable: clients and tests match on them.
"""

from cets.core.errors import Check

# T01xx the order book's refusals (pure: ``book.py``)
T0101 = Check("T0101", "价格须为正整数分（最小变动单位0.01元）", "price must be a positive whole number of fen (tick 0.01 CNY)")
T0102 = Check("T0102", "数量须为正整数吨", "quantity must be a positive whole number of tonnes")
T0103 = Check("T0103", "挂牌协议单笔申报数量须小于10万吨", "a listing-agreement order must be below the block threshold")
T0104 = Check("T0104", "大宗协议单笔申报数量须不少于10万吨", "a block-agreement order must reach the block threshold")
T0105 = Check("T0105", "申报价格超出涨跌幅限制", "price outside the daily price band")
T0106 = Check("T0106", "所选报价不存在或不在最优五档内", "the chosen quote does not exist or is not within the best five price levels")
T0107 = Check("T0107", "摘牌数量超过报价剩余数量", "take quantity exceeds the quote's remaining quantity")
T0108 = Check("T0108", "不能与本方报价成交", "a participant cannot trade with its own quote")
T0109 = Check("T0109", "定向大宗协议只能由指定对手方确认", "a directed block order can be confirmed only by the named counterparty")
T0110 = Check("T0110", "委托不存在、已成交或非本人委托", "order not found, already done, or not yours")
T0111 = Check("T0111", "交易标的未开市（无前收盘价）", "instrument not open (no previous close)")
T0112 = Check("T0112", "大宗协议须全部数量确认", "a block order is confirmed for its whole remaining quantity")
T0113 = Check("T0113", "交易方式不支持该指令", "the trade method does not support this command")
T0114 = Check("T0114", "买卖方向错误", "side must be B (buy) or S (sell)")
T0115 = Check("T0115", "竞价场次不存在或已结束", "no such auction, or it has been cleared")

# T02xx order entry and funds (``services``, ``funds``)
T0201 = Check("T0201", "可用资金不足", "insufficient available funds")
T0202 = Check("T0202", "金额须为正整数分，且小于10^15分", "amount must be a positive whole number of fen below 10^15")
T0203 = Check("T0203", "幂等键已用于不同内容", "idempotency key already used with other content")
T0204 = Check("T0204", "资金账户不存在", "no fund account")
T0205 = Check("T0205", "非交易日或非交易时段", "the market is closed (not a trading day or outside the session)")
T0206 = Check("T0206", "未知交易标的", "unknown instrument")
T0207 = Check("T0207", "可卖持仓不足（当日买入的配额当日不得卖出）", "not enough sellable units (allowances bought today cannot be sold today)")
T0208 = Check("T0208", "账户状态不允许交易", "the account's status does not allow trading")
T0209 = Check("T0209", "无交易权限", "not a trading participant or not acting for it")
T0210 = Check("T0210", "前一交易日尚未闭市", "the previous trading day is not closed")
T0211 = Check("T0211", "报价不存在或已失效", "the quote does not exist or is no longer open")
T0212 = Check("T0212", "超过最大持仓量限制", "the order would exceed the maximum holding")

# T03xx auctions (``auction.py``)
T0301 = Check("T0301", "竞买价格低于底价", "bid price below the floor price")
T0302 = Check("T0302", "竞买数量不符合公告要求", "bid quantity outside the announced limits")
T0303 = Check("T0303", "竞价规则须为统一价格或按报价成交", "pricing must be uniform or pay-as-bid")
T0304 = Check("T0304", "同一竞买人重复报价", "a bidder may send one bid only")

# T04xx input at the edges: prices in CNY, keys, counterparties, API parameters
T0401 = Check("T0401", "价格须为以元为单位、最多两位小数的正数（如 96.50）",
              "price must be a positive amount in CNY with at most two decimals (e.g. 96.50)")
T0402 = Check("T0402", "幂等键须为1至80位字母、数字或 . _ : -", "idempotency key must be 1–80 letters, digits or . _ : -")
T0403 = Check("T0403", "对手方统一社会信用代码不存在", "no participant with this counterparty credit code")
T0404 = Check("T0404", "须且只能给出 price（元）或 price_fen（分）之一", "give exactly one of price (CNY string) or price_fen (int)")
T0405 = Check("T0405", "缺少幂等键（Idempotency-Key 请求头或 key 字段）", "idempotency key missing (Idempotency-Key header or key field)")
T0406 = Check("T0406", "日期范围无效（起始日晚于截止日或超过2000天）", "invalid date range (start after end, or more than 2000 days)")

# T05xx participants, trading rights and exchange members (``services/orders.py``, ``services/members.py``)
T0501 = Check("T0501", "该类交易主体无权交易此标的（见交易规则包的交易权限）",
              "this kind of participant may not trade this instrument (the trading pack's trading rights)")
T0502 = Check("T0502", "所属会员已被暂停，不能申报", "the participant's exchange member is suspended: no orders")
T0503 = Check("T0503", "会员类别不在交易规则包中", "membership kind not in the trading pack")
T0504 = Check("T0504", "该会员类别不能代理客户交易", "this kind of member may not act for clients")
T0505 = Check("T0505", "会员不存在或状态不允许此操作", "no such member, or its status does not allow this")
T0506 = Check("T0506", "该交易主体已由其他会员代理", "the participant already has a member acting for it")

# T06xx markets (issue 17: the voluntary market trades on its own exchange)
T0601 = Check("T0601", "该市场不存在或没有交易规则（市场文件未登记交易规则包）",
              "no such market, or the market has no trading rules (its market.toml registers no trading pack)")

# T07xx restrictions decided outside the exchange (``restrictions``; Measures Art. 49 blacklist, Regulations penalties)
T0701 = Check("T0701", "该交易主体被限制交易", "this participant is restricted from trading")

# T08xx payment against delivery of the registry's sales and purchases (issue 17: reserve auction and buy-back, paid
# allocation by auction; ``services.funds.registry_payments``): proceeds to the authority's treasury fund account, no fee.
T0801 = Check("T0801", "竞买人资金账户可用资金不足，不能冻结或支付拍卖价款",
              "the bidder's fund account has too little available to hold or pay the auction amount")
T0802 = Check("T0802", "主管部门的国库资金账户余额不足，不能支付回购价款",
              "the authority's treasury fund account holds too little to pay for the buy-back")
T0803 = Check("T0803", "该账户的持有人在本市场没有资金账户", "the account's holder has no fund account in this market")
T0805 = Check("T0805", "入金对象不存在：应为本平台持有人的统一社会信用代码或 treasury（国库资金账户），市场须存在",
              "unknown deposit participant: a holder's unified social credit code or 'treasury' (the treasury fund account) of an existing market")
T0806 = Check("T0806", "须填写结算银行的入金流水号（1–60个字符）；同一流水号只能入金一次且金额一致",
              "the settlement bank's deposit reference is required (1–60 characters); one reference records one deposit of one amount")
T0804 = Check("T0804", "资金结算的账户不是本市场持有人的账户", "the account to settle is not a holder's account of this market")

"""Demo data: a realistic Chinese B2B company (`kith demo`, `make run` on an empty database).

Departments 总部 → 华北销售部 / 华东销售部 / 客服部 / 市场部 / 财务部 / 技术支持部, the demo users of
docs/API.md (password ``kith-demo-2026``), and customers with contacts, opportunities at every stage,
quotes, contracts, payment plans and payments, tags and half a year of follow-ups, each with its
timeline events. Deterministic for a given seed (times are relative to ``clock.now()``).

The name pools and generators at the top are shared with the benchmark loader (bench/generate.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pypinyin import lazy_pinyin
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

DEMO_PASSWORD = "kith-demo-2026"

# ---------------------------------------------------------------------------------------------
# Name pools and generators (also used by bench/generate.py)
# ---------------------------------------------------------------------------------------------

# The commonest surnames first; repeated to weight them roughly as in real life.
SURNAMES = (
    "王" * 9 + "李" * 9 + "张" * 8 + "刘" * 7 + "陈" * 6 + "杨" * 4 + "黄" * 3 + "赵" * 3 + "吴" * 3 + "周" * 3
    + "徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_NAMES = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂英 秀英 建国 志强 海燕 丽华 晓明 文博 子涵 思远 雨萱 浩然 "
    "欣怡 宇航 俊杰 婷婷 建华 国强 红梅 玉兰 志刚 春梅 晓东 海涛 立新 振华 亚楠 佳琪 梦瑶 一鸣 天宇 嘉怡 瑞 鹏 飞 斌 琳 颖 "
    "晨 博 凯 晶 慧 雪 莉 倩 宁 波 辉 健 亮 永刚 德明 学军 秀兰 金凤 淑芬 晓燕 立伟 振宇 子轩 若曦 雅婷 文静 建军 小龙 光明 红霞"
).split()

# (province, city, districts, telephone area code)
REGIONS_NORTH = [
    ("北京", "北京", ["海淀区", "朝阳区", "东城区", "西城区", "丰台区", "昌平区", "大兴区", "顺义区"], "10"),
    ("天津", "天津", ["和平区", "南开区", "河西区", "滨海新区", "西青区"], "22"),
    ("河北", "石家庄", ["长安区", "桥西区", "裕华区", "新华区"], "311"),
    ("山东", "济南", ["历下区", "市中区", "槐荫区", "历城区"], "531"),
    ("山东", "青岛", ["市南区", "市北区", "黄岛区", "崂山区"], "532"),
    ("辽宁", "沈阳", ["和平区", "沈河区", "浑南区", "铁西区"], "24"),
    ("辽宁", "大连", ["中山区", "西岗区", "沙河口区", "甘井子区"], "411"),
    ("河南", "郑州", ["金水区", "二七区", "中原区", "郑东新区"], "371"),
    ("山西", "太原", ["小店区", "迎泽区", "杏花岭区"], "351"),
    ("陕西", "西安", ["雁塔区", "碑林区", "未央区", "高新区"], "29"),
]
REGIONS_EAST = [
    ("上海", "上海", ["浦东新区", "徐汇区", "静安区", "黄浦区", "闵行区", "长宁区", "杨浦区", "嘉定区"], "21"),
    ("江苏", "南京", ["玄武区", "秦淮区", "鼓楼区", "建邺区", "江宁区"], "25"),
    ("江苏", "苏州", ["姑苏区", "工业园区", "吴中区", "相城区", "昆山市"], "512"),
    ("江苏", "无锡", ["梁溪区", "滨湖区", "新吴区"], "510"),
    ("浙江", "杭州", ["西湖区", "上城区", "拱墅区", "滨江区", "余杭区", "萧山区"], "571"),
    ("浙江", "宁波", ["海曙区", "鄞州区", "江北区", "北仑区"], "574"),
    ("安徽", "合肥", ["蜀山区", "包河区", "庐阳区", "高新区"], "551"),
    ("福建", "厦门", ["思明区", "湖里区", "集美区"], "592"),
    ("福建", "福州", ["鼓楼区", "台江区", "仓山区"], "591"),
]
REGIONS_OTHER = [
    ("广东", "广州", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"], "20"),
    ("广东", "深圳", ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区"], "755"),
    ("四川", "成都", ["武侯区", "锦江区", "高新区", "青羊区"], "28"),
    ("湖北", "武汉", ["武昌区", "江汉区", "洪山区", "东湖高新区"], "27"),
    ("重庆", "重庆", ["渝中区", "江北区", "渝北区", "南岸区"], "23"),
    ("湖南", "长沙", ["岳麓区", "芙蓉区", "天心区", "雨花区"], "731"),
]
REGIONS = REGIONS_NORTH + REGIONS_EAST + REGIONS_OTHER

INDUSTRIES = ["制造业", "互联网", "金融", "教育", "医疗", "零售", "物流", "能源"]
INDUSTRY_WORDS = {
    "制造业": ["机械", "智能制造", "精密机械", "电子", "汽车零部件", "新材料", "重工"],
    "互联网": ["科技", "网络科技", "信息技术", "软件", "数据科技", "云计算"],
    "金融": ["金融服务", "投资管理", "融资租赁", "保险代理", "资产管理"],
    "教育": ["教育科技", "培训", "文化传播", "职业教育"],
    "医疗": ["医疗器械", "医药", "生物科技", "健康管理", "医疗科技"],
    "零售": ["商贸", "百货", "连锁超市", "电子商务", "贸易"],
    "物流": ["物流", "供应链管理", "国际货运", "快运", "仓储"],
    "能源": ["能源", "新能源", "电力工程", "环保科技", "光伏科技", "燃气"],
}
LEGAL_SUFFIXES = ["有限公司"] * 6 + ["股份有限公司"] * 2 + ["集团有限公司"]
BRAND_HEADS = "华中金恒博鼎天瑞宏新启卓嘉远汇联智数云海东泰康安永盛普信诚德丰"
BRAND_TAILS = "信科桥通远盛成丰达锐明越禾航创维邦拓源辰诚辉域泰和益鑫晟宇"
SOURCES = ["官网", "展会", "转介绍", "电话营销", "合作伙伴"]
SOURCE_WEIGHTS = [3, 2, 3, 2, 2]
LEVELS = ["A", "B", "C", "D"]
LEVEL_WEIGHTS = [1, 3, 4, 2]
TITLES = ["总经理", "副总经理", "采购经理", "采购专员", "技术总监", "IT经理", "财务总监", "行政主管", "运营总监",
          "销售总监", "信息中心主任", "项目经理", "董事长助理"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
                   "158", "159", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199"]
EMAIL_HOSTS = ["qq.com", "163.com", "126.com", "sina.com", "outlook.com"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def mobile(rng: random.Random) -> str:
    """A mainland mobile in E.164."""
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area: str) -> str:
    """A fixed line in E.164: area code + 8 digits (7 after a 4-digit code is not used here)."""
    return f"+86{area}{rng.randint(2, 8)}{rng.randrange(10**7):07d}"


def pinyin_of(text: str) -> str:
    return "".join(lazy_pinyin(text))


def brand(rng: random.Random) -> str:
    head = rng.choice(BRAND_HEADS)
    tail = rng.choice(BRAND_TAILS)
    while tail == head:
        tail = rng.choice(BRAND_TAILS)
    return head + tail


def company_name(rng: random.Random, city: str, industry: str, brand_name: str | None = None) -> str:
    return f"{city}{brand_name or brand(rng)}{rng.choice(INDUSTRY_WORDS[industry])}{rng.choice(LEGAL_SUFFIXES)}"


def contact_email(rng: random.Random, name: str, domain: str | None) -> str:
    py = pinyin_of(name)
    if domain and rng.random() < 0.6:
        return f"{py}@{domain}"
    return f"{py}{rng.randint(1, 999)}@{rng.choice(EMAIL_HOSTS)}"


# ---------------------------------------------------------------------------------------------
# The demo company
# ---------------------------------------------------------------------------------------------

DEPARTMENTS = ["华北销售部", "华东销售部", "客服部", "市场部", "财务部", "技术支持部"]

# username, display name, role, department (None: 总部), manages the department
DEMO_USERS: list[tuple[str, str, str, str | None, bool]] = [
    ("admin", "陈志远", "admin", None, True),
    ("manager_north", "王建国", "sales_manager", "华北销售部", True),
    ("rep_north", "李明", "sales_rep", "华北销售部", False),
    ("zhaolei", "赵磊", "sales_rep", "华北销售部", False),
    ("sunli", "孙丽", "sales_rep", "华北销售部", False),
    ("manager_east", "张丽华", "sales_manager", "华东销售部", True),
    ("rep_east", "刘洋", "sales_rep", "华东销售部", False),
    ("zhoumin", "周敏", "sales_rep", "华东销售部", False),
    ("wutao", "吴涛", "sales_rep", "华东销售部", False),
    ("service", "赵晓燕", "service", "客服部", True),
    ("marketing", "孙婷婷", "marketing", "市场部", True),
    ("finance", "周静", "finance", "财务部", True),
    ("support", "吴海涛", "support", "技术支持部", True),
]

TAGS = [("重点客户", "#F56C6C"), ("老客户", "#67C23A"), ("待激活", "#909399"), ("高意向", "#E6A23C"),
        ("政府项目", "#409EFF"), ("渠道合作", "#9B59B6"), ("续约关注", "#1ABC9C")]

PRODUCTS = [
    ("CRM-STD", "客户管理系统 标准版", "软件", "套", "58000.00"),
    ("CRM-PRO", "客户管理系统 专业版", "软件", "套", "128000.00"),
    ("MOD-MOBILE", "移动销售模块", "软件", "套", "26000.00"),
    ("MOD-BI", "数据分析与报表模块", "软件", "套", "39000.00"),
    ("SVC-IMPL", "实施服务", "服务", "人天", "2500.00"),
    ("SVC-TRAIN", "现场培训", "服务", "场", "6000.00"),
    ("SVC-OPS", "年度运维服务", "服务", "年", "18000.00"),
    ("HW-BOX", "私有化部署一体机", "硬件", "台", "45000.00"),
]

NEXT_ACTIONS = {
    0: ["电话了解需求和预算", "约见信息中心负责人", "发送公司介绍和案例", "加微信预约初次拜访"],
    1: ["安排产品演示", "整理需求清单并确认", "约技术负责人做方案交流", "确认预算和采购流程"],
    2: ["发送正式报价单", "根据反馈调整方案", "安排POC测试环境", "与采购确认报价细节"],
    3: ["准备合同草案", "与法务确认合同条款", "约总经理商务会谈", "确认付款方式和节点"],
}
LOST_REASONS = ["价格高于竞品", "客户预算取消", "选择了竞争对手", "项目无限期搁置", "需求不匹配", "关键联系人离职"]
OPP_TOPICS = ["CRM系统采购", "销售管理平台建设", "客服系统升级", "数据分析平台", "移动办公项目", "信息化二期", "年度运维续约",
              "渠道管理系统", "私有化部署项目"]

FOLLOWUP_TYPES = ["call", "visit", "email", "wechat", "meeting", "note"]
FOLLOWUP_WEIGHTS = [5, 2, 2, 4, 1, 1]
FOLLOWUP_TEXTS = {
    "call": ["电话联系{c}，了解到对方正在评估{p}，预计下月立项。", "与{c}电话沟通，对方对报价有疑问，答应明天回复。",
             "致电{c}确认演示时间，定在下周三下午。", "回访{c}，客户反馈系统使用顺畅，提出两个改进建议。",
             "{c}电话未接通，稍后再联系。"],
    "visit": ["上门拜访{c}，参观了客户的仓库和办公室，现场演示了{p}。", "拜访{c}，与信息中心一起梳理了现有流程。",
              "陪同技术支持拜访{c}，解决了数据导入的问题。"],
    "email": ["给{c}发送了{p}的报价单和方案说明。", "邮件发送会议纪要给{c}，请对方确认需求清单。",
              "发送合同草案给{c}，等待法务意见。"],
    "wechat": ["微信和{c}沟通项目进度，对方说领导还在审批。", "{c}微信询问{p}的价格，已发送产品手册。",
               "微信提醒{c}下周的演示安排，对方已确认。", "{c}在微信上反馈了几个使用问题，已转技术支持。"],
    "meeting": ["与{c}及其团队开会，讨论{p}的实施计划和时间表。", "参加{c}组织的供应商评审会，介绍了我方方案。"],
    "note": ["客户今年预算收紧，{p}可能推迟到明年。", "{c}提到竞争对手也在接触，需要尽快推进。",
             "客户对售后服务很满意，可以争取转介绍。"],
}
CONTACT_ROLES = ["decision_maker", "buyer", "technical", "influencer", "user", "finance"]


@dataclass
class _Ctx:
    rng: random.Random
    now: datetime
    users: dict[str, Any]
    dept_paths: dict[int, str]
    stages: list[Any]
    products: list[Any]
    tags: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    def event(self, when: datetime, type: str, entity_type: str, entity_id: int, customer_id: int, actor_id: int | None,
              summary: str, data: dict[str, Any]) -> None:
        self.events.append({"occurred_at": when, "type": type, "entity_type": entity_type, "entity_id": entity_id,
                            "customer_id": customer_id, "actor_id": actor_id, "summary": summary[:500], "data": data})


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    seconds = (end - start).total_seconds()
    t = start + timedelta(seconds=rng.uniform(0, seconds))
    return min(max(_working_hours(rng, t), start), end)


def _working_hours(rng: random.Random, t: datetime) -> datetime:
    """Shift a UTC time to a plausible Beijing office hour (09:00–18:59 CST = 01:00–10:59 UTC), same day."""
    return t.replace(hour=rng.randint(1, 10), minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)


def _ensure_org(session: Session, password_hash: str) -> tuple[dict[str, Any], dict[int, str]]:
    from kith.auth.models import Department, Role, User
    from kith.bootstrap import create_department

    def dept(name: str, parent: Any | None) -> Any:
        parent_cond = Department.parent_id == parent.id if parent else Department.parent_id.is_(None)
        found = session.scalar(select(Department).where(Department.name == name, parent_cond).order_by(Department.id).limit(1))
        return found or create_department(session, name, parent)

    root = dept("总部", None)
    depts = {None: root}
    for pos, name in enumerate(DEPARTMENTS):
        d = dept(name, root)
        d.position = pos
        depts[name] = d
    roles = {r.code: r for r in session.scalars(select(Role))}
    users: dict[str, Any] = {}
    rng = random.Random(7)
    for username, display, role, dname, manages in DEMO_USERS:
        d = depts[dname]
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=display, password_hash=password_hash, department_id=d.id,
                        email=f"{username}@demo.kith.example", mobile=mobile(rng), is_demo=True)
            user.roles = [roles[role]]
            session.add(user)
            session.flush()
        users[username] = user
        if manages and d.manager_id is None:
            d.manager_id = user.id
    session.flush()
    paths = {d.id: d.path for d in depts.values()}
    return users, paths


def _ensure_catalogue(session: Session) -> tuple[list[Any], dict[str, Any]]:
    from kith.products.models import Product
    from kith.tags.models import Tag

    products = []
    for code, name, category, unit, price in PRODUCTS:
        p = session.scalar(select(Product).where(Product.code == code))
        if p is None:
            p = Product(code=code, name=name, category=category, unit=unit, price=Decimal(price),
                        description=f"{name}（{category}）")
            session.add(p)
        products.append(p)
    tags = {}
    for name, color in TAGS:
        t = session.scalar(select(Tag).where(Tag.name == name))
        if t is None:
            t = Tag(name=name, color=color)
            session.add(t)
        tags[name] = t
    session.flush()
    return products, tags


def _owner_plan(rng: random.Random, n: int) -> list[str]:
    """Mostly reps, some managers; rep_north and rep_east get at least min(20, n // 5) each."""
    guaranteed = min(20, n // 5)
    owners = ["rep_north", "rep_east"] * guaranteed
    pool = ["rep_north", "zhaolei", "sunli", "rep_east", "zhoumin", "wutao", "manager_north", "manager_east"]
    weights = [3, 3, 3, 3, 3, 3, 1, 1]
    owners += rng.choices(pool, weights, k=n - len(owners))
    rng.shuffle(owners)
    # The showcase customer (index 0) belongs to rep_north.
    if owners and owners[0] != "rep_north":
        j = owners.index("rep_north") if "rep_north" in owners else 0
        owners[0], owners[j] = owners[j], owners[0]
        owners[0] = "rep_north"
    return owners


def load_demo(customers: int = 300, seed: int = 2026, force: bool = False) -> bool:
    """Load the demo company. Returns False (and does nothing) when customers exist and not force."""
    from kith.auth.security import hash_password
    from kith.bootstrap import bootstrap, ensure_default_pipeline
    from kith.customers.models import Customer
    from kith.db.session import session_scope
    from kith.opportunities.models import Stage

    with session_scope() as session:
        if not force and session.scalar(select(func.count()).select_from(Customer)):
            return False
        bootstrap(session)
        pipeline = ensure_default_pipeline(session)
        stages = list(session.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position)))
        users, paths = _ensure_org(session, hash_password(DEMO_PASSWORD))
        products, tags = _ensure_catalogue(session)
        rng = random.Random(seed)
        from kith.core import clock

        ctx = _Ctx(rng=rng, now=clock.now().replace(microsecond=0), users=users, dept_paths=paths, stages=stages,
                   products=products, tags=tags)
        _load_customers(session, ctx, customers)
        session.flush()
        from kith.activities.events import backfill_links

        backfill_links(session)  # contact and deal timelines
    return True


def _load_customers(session: Session, ctx: _Ctx, n: int) -> None:
    from kith.activities.models import Event, Followup
    from kith.contacts.models import Contact
    from kith.contracts.models import Contract, Payment, PaymentPlan
    from kith.core.normalize import normalize_company
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity, OpportunityContact, QuoteLine, StageHistory
    from kith.tags.models import Tagging

    rng, now = ctx.rng, ctx.now
    owners = _owner_plan(rng, n)
    north = {"rep_north", "zhaolei", "sunli", "manager_north"}

    # ---- plan customers (all values final before the first INSERT: no later UPDATEs) ----------
    plans: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i in range(n):
        owner = ctx.users[owners[i]]
        regions = REGIONS_NORTH if owners[i] in north else REGIONS_EAST
        if rng.random() < 0.12:
            regions = REGIONS_OTHER
        province, city, districts, area = rng.choice(regions)
        industry = rng.choice(INDUSTRIES)
        if i == 0:
            province, city, districts, area = REGIONS_NORTH[0]
            industry, name, brand_name = "互联网", "北京华信科技有限公司", "华信"
        else:
            for _ in range(50):
                brand_name = brand(rng)
                name = company_name(rng, city, industry, brand_name)
                if normalize_company(name) not in seen:
                    break
        seen.add(normalize_company(name))
        level = "A" if i == 0 else rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
        created = now - timedelta(days=rng.uniform(20, 540))
        created = _working_hours(rng, created)
        domain = f"{pinyin_of(brand_name)}{rng.choice(['', 'tech', 'group', 'cn'])}.com.cn"
        nf = {"A": (8, 16), "B": (4, 10), "C": (2, 6), "D": (0, 3)}[level]
        start = max(created, now - timedelta(days=180))
        quiet = rng.random() < 0.15 and level != "A"  # some customers went quiet weeks ago
        end = now - timedelta(days=rng.uniform(10, 60)) if quiet else now - timedelta(hours=1)
        times = sorted(_between(rng, start, end) for _ in range(rng.randint(*nf)))
        if times and not quiet and rng.random() < 0.5:  # about half were followed up in the last week
            times[-1] = max(times[-1], _between(rng, now - timedelta(days=6), now - timedelta(hours=2)))
        times = [t for t in times if created < t < now]
        plans.append({
            "i": i, "owner": owner, "name": name, "industry": industry, "level": level, "province": province,
            "city": city, "district": rng.choice(districts), "area": area, "domain": domain, "created": created,
            "followups": times,
        })
    plans.sort(key=lambda p: p["created"])  # ids in creation order

    objs: list[Customer] = []
    for p in plans:
        owner = p["owner"]
        times = p["followups"]
        last = times[-1] if times else None
        nxt = None
        if last is not None:
            nxt = _working_hours(rng, now + timedelta(days=rng.randint(1, 14))) if rng.random() < 0.8 else \
                _working_hours(rng, now - timedelta(days=rng.randint(1, 6)))
        p["next"] = nxt
        status = rng.choices(["potential", "active", "inactive", "lost"], [5, 4, 1, 1])[0]
        c = Customer(
            name=p["name"], name_key=normalize_company(p["name"]), industry=p["industry"],
            source=rng.choices(SOURCES, SOURCE_WEIGHTS)[0], level=p["level"], status=status,
            province=p["province"], city=p["city"], district=p["district"],
            address=f"{p['city']}{p['district']}{rng.choice(['科技园', '中山路', '人民路', '建设路', '解放路', '创业大道', '金融街'])}"
                    f"{rng.randint(1, 399)}号{rng.choice(['', 'A座', 'B座', '大厦'])}{rng.randint(2, 28)}层",
            phone=landline(rng, p["area"]), email=f"info@{p['domain']}", website=f"https://www.{p['domain']}",
            description=rng.choice(["", "年营业额过亿，正在推进数字化转型。", "老板重视销售管理，决策链短。",
                                    "集团下属单位，采购走招标流程。", "通过行业协会认识，关系不错。"]) or None,
            last_followup_at=last, next_followup_at=nxt,
            owner_id=owner.id, department_id=owner.department_id, department_path=ctx.dept_paths[owner.department_id],
            created_by_id=owner.id, created_at=p["created"], updated_at=max([p["created"], *times]), custom={},
        )
        objs.append(c)
    session.add_all(objs)
    session.flush()
    for p, c in zip(plans, objs):
        p["obj"] = c
        ctx.event(p["created"], "customer.created", "customer", c.id, c.id, c.created_by_id, c.name, {"name": c.name})

    # ---- contacts ------------------------------------------------------------------------------
    contacts: list[Contact] = []
    for p in plans:
        c = p["obj"]
        p["contacts"] = []
        for k in range(rng.choices([1, 2, 3], [4, 4, 2])[0]):
            name = "张伟" if p["i"] == 0 and k == 0 else person_name(rng)
            ct = Contact(
                customer_id=c.id, name=name, title=rng.choice(TITLES), mobile=mobile(rng),
                phone=c.phone if rng.random() < 0.3 else None, email=contact_email(rng, name, p["domain"]),
                wechat=f"wx_{pinyin_of(name)}{rng.randint(10, 9999)}" if rng.random() < 0.6 else None,
                is_primary=k == 0, owner_id=c.owner_id, department_id=c.department_id, department_path=c.department_path,
                created_by_id=c.owner_id, created_at=c.created_at + timedelta(minutes=5 + k),
                updated_at=c.created_at + timedelta(minutes=5 + k), custom={},
            )
            p["contacts"].append(ct)
            contacts.append(ct)
    session.add_all(contacts)
    session.flush()
    for p in plans:
        for ct in p["contacts"]:
            ctx.event(ct.created_at, "contact.created", "contact", ct.id, ct.customer_id, ct.owner_id, ct.name,
                      {"name": ct.name, "title": ct.title})

    # ---- opportunities -------------------------------------------------------------------------
    stages = ctx.stages
    open_stages = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    stage_weights = [max(4, 18 - 2 * s.position) if s.kind == "open" else 14 if s.kind == "won" else 8 for s in stages]
    opp_plans: list[dict[str, Any]] = []
    seq = 0
    for p in plans:
        count = rng.choices([0, 1, 2], [2, 6, 2])[0] if p["i"] != 0 else 2
        for _ in range(count):
            # cycle through every stage first so even a small demo shows the whole pipeline
            target = stages[seq % len(stages)] if seq < 2 * len(stages) else rng.choices(stages, stage_weights)[0]
            seq += 1
            opp_plans.append({"customer": p, "target": target})
    opps: list[Opportunity] = []
    for op in opp_plans:
        p, target = op["customer"], op["target"]
        c = p["obj"]
        t0 = _between(rng, c.created_at + timedelta(days=1), now - timedelta(days=3))
        if target.kind == "lost":
            path = open_stages[: rng.randint(1, len(open_stages))] + [lost]
        else:
            path = [s for s in stages if s.kind == "open" and s.position <= target.position] + ([won] if target.kind == "won" else [])
        changes = sorted(_between(rng, t0, now - timedelta(hours=2)) for _ in range(len(path) - 1))
        times = [t0, *changes]
        op["path"], op["times"] = path, times
        closed = times[-1] if target.kind != "open" else None
        products = rng.sample(ctx.products, rng.randint(1, 3))
        lines = []
        for pos, prod in enumerate(products):
            qty = Decimal(rng.choice([1, 1, 2, 3, 5, 10, 20])) if prod.unit in ("人天", "场") else Decimal(rng.choice([1, 1, 1, 2]))
            disc = Decimal(rng.choice([0, 0, 5, 10, 15]))
            amount = _money(qty * prod.price * (Decimal(100) - disc) / Decimal(100))
            lines.append((pos, prod, qty, disc, amount))
        op["lines"] = lines
        amount = sum((ln[4] for ln in lines), Decimal(0))
        topic = rng.choice(OPP_TOPICS)
        name = f"{c.name.replace('有限公司', '').replace('股份', '').replace('集团', '')}{topic}"
        is_open = target.kind == "open"
        due = None
        action = None
        if is_open:
            action = rng.choice(NEXT_ACTIONS[min(target.position, 3)])
            due = _working_hours(rng, now + timedelta(days=rng.randint(1, 21))) if rng.random() < 0.85 else \
                _working_hours(rng, now - timedelta(days=rng.randint(1, 5)))
        elif target.kind == "won":
            action = "签约完成，移交实施"
        status = target.kind
        o = Opportunity(
            customer_id=c.id, name=name[:200], amount=amount, currency="CNY",
            expected_close_date=(now + timedelta(days=rng.randint(10, 120))).date() if is_open else closed.date(),
            pipeline_id=target.pipeline_id, stage_id=target.id, stage_changed_at=times[-1], status=status,
            next_action=action, next_action_due=due,
            lost_reason=rng.choice(LOST_REASONS) if status == "lost" else None, closed_at=closed,
            owner_id=c.owner_id, department_id=c.department_id, department_path=c.department_path, created_by_id=c.owner_id,
            created_at=t0, updated_at=times[-1], custom={},
        )
        op["obj"] = o
        opps.append(o)
    session.add_all(opps)
    session.flush()

    extra: list[Any] = []
    won_ops = []
    for op in opp_plans:
        o, path, times = op["obj"], op["path"], op["times"]
        ctx.event(times[0], "opportunity.created", "opportunity", o.id, o.customer_id, o.owner_id, o.name,
                  {"name": o.name, "amount": f"{o.amount:.2f}", "stage": path[0].name})
        prev = None
        for k, (stage, when) in enumerate(zip(path, times)):
            is_last = k == len(path) - 1
            action = o.next_action if is_last else rng.choice(NEXT_ACTIONS[min(stage.position, 3)])
            extra.append(StageHistory(opportunity_id=o.id, from_stage_id=prev.id if prev else None, to_stage_id=stage.id,
                                      changed_at=when, changed_by_id=o.owner_id, next_action=action))
            if prev is not None:
                status = stage.kind
                ctx.event(when, "opportunity.stage_changed", "opportunity", o.id, o.customer_id, o.owner_id, o.name,
                          {"changes": {"stage": [prev.name, stage.name]}, "status": status, "next_action": action,
                           "lost_reason": o.lost_reason if stage.kind == "lost" else None})
            prev = stage
        if any(s.position >= 2 for s in path if s.kind == "open"):
            quoted = next(t for s, t in zip(path, times) if s.kind == "open" and s.position >= 2)
            for pos, prod, qty, disc, amount in op["lines"]:
                extra.append(QuoteLine(opportunity_id=o.id, product_id=prod.id, description=prod.name, quantity=qty,
                                       unit_price=prod.price, discount_percent=disc, amount=amount, position=pos,
                                       created_at=quoted, updated_at=quoted))
        cts = op["customer"]["contacts"]
        for ct, role in zip(rng.sample(cts, min(len(cts), rng.randint(1, 2))), rng.sample(CONTACT_ROLES, 2)):
            extra.append(OpportunityContact(opportunity_id=o.id, contact_id=ct.id, role=role, created_at=times[0], updated_at=times[0]))
        if o.status == "won":
            won_ops.append(op)
    session.add_all(extra)

    # ---- contracts, payment plans, payments (schedule decided first: no UPDATEs afterwards) -------
    today = now.date()
    for op in won_ops:
        o = op["obj"]
        sign = o.closed_at.date()
        shares = rng.choice([[100], [50, 50], [30, 40, 30], [30, 60, 10]])
        remaining = o.amount
        schedule = []
        for idx, share in enumerate(shares):
            amt = remaining if idx == len(shares) - 1 else _money(o.amount * share / 100)
            remaining -= amt
            due = sign + timedelta(days=7 + 45 * idx)
            pay = None
            if due <= today and rng.random() < 0.85:
                received = max(sign, min(today, due + timedelta(days=rng.randint(-5, 20))))
                pay = (received, amt if rng.random() < 0.9 else _money(amt / 2), rng.choice(["银行转账", "银行转账", "承兑汇票", "支票"]))
            schedule.append((idx, share, due, amt, pay))
        op["schedule"] = schedule
    contracts = []
    for n_c, op in enumerate(sorted(won_ops, key=lambda x: x["obj"].closed_at), start=1):
        o = op["obj"]
        sign = o.closed_at.date()
        start = sign + timedelta(days=rng.randint(0, 14))
        paid_total = sum((s[4][1] for s in op["schedule"] if s[4]), Decimal(0))
        k = Contract(
            customer_id=o.customer_id, opportunity_id=o.id, number=f"HT{sign:%Y%m}-{n_c:04d}", title=o.name,
            amount=o.amount, currency="CNY", sign_date=sign, start_date=start, end_date=start + timedelta(days=365),
            status="completed" if paid_total >= o.amount else "active", description="合同已双方盖章，原件存档于财务部。",
            owner_id=o.owner_id, department_id=o.department_id, department_path=o.department_path, created_by_id=o.owner_id,
            created_at=o.closed_at + timedelta(hours=1), updated_at=o.closed_at + timedelta(hours=1),
        )
        op["contract"] = k
        contracts.append(k)
    session.add_all(contracts)
    session.flush()
    pp_rows: list[tuple[Any, Any, Any]] = []
    for op in won_ops:
        k = op["contract"]
        ctx.event(k.created_at, "contract.created", "contract", k.id, k.customer_id, k.owner_id, k.title,
                  {"number": k.number, "title": k.title, "amount": f"{k.amount:.2f}", "sign_date": k.sign_date.isoformat()})
        for idx, share, due, amt, pay in op["schedule"]:
            pp = PaymentPlan(contract_id=k.id, due_date=due, amount=amt, note=f"第{idx + 1}期（{share}%）",
                             created_at=k.created_at, updated_at=k.created_at)
            pp_rows.append((k, pp, pay))
    session.add_all([pp for _, pp, _ in pp_rows])
    session.flush()
    payments = []
    for k, pp, pay in pp_rows:
        if pay is None:
            continue
        received, amt, method = pay
        at = datetime.combine(received, datetime.min.time(), tzinfo=now.tzinfo) + timedelta(hours=rng.randint(1, 9))
        payments.append((k, Payment(contract_id=k.id, plan_id=pp.id, received_on=received, amount=amt, method=method,
                                    note=pp.note, created_at=at, updated_at=at)))
    session.add_all([pay for _, pay in payments])
    session.flush()
    finance = ctx.users["finance"]
    for k, pay in payments:
        ctx.event(pay.created_at, "payment.received", "payment", pay.id, k.customer_id, finance.id, f"{k.number} 回款",
                  {"contract_id": k.id, "number": k.number, "amount": f"{pay.amount:.2f}",
                   "received_on": pay.received_on.isoformat(), "method": pay.method})

    # ---- follow-ups ----------------------------------------------------------------------------
    opps_by_customer: dict[int, list[Any]] = {}
    for op in opp_plans:
        opps_by_customer.setdefault(op["obj"].customer_id, []).append(op["obj"])
    followups = []
    for p in plans:
        c = p["obj"]
        times = p["followups"]
        copps = opps_by_customer.get(c.id, [])
        for k, when in enumerate(times):
            ftype = rng.choices(FOLLOWUP_TYPES, FOLLOWUP_WEIGHTS)[0]
            ct = rng.choice(p["contacts"])
            started = [o for o in copps if o.created_at <= when]
            opp = rng.choice(started) if started and rng.random() < 0.6 else None
            prod = rng.choice(ctx.products).name
            text = rng.choice(FOLLOWUP_TEXTS[ftype]).format(c=ct.name, p=prod)
            is_last = k == len(times) - 1
            nxt = p["next"] if is_last else (times[k + 1] if rng.random() < 0.4 else None)
            followups.append(Followup(
                customer_id=c.id, contact_id=ct.id if ftype != "note" else None, opportunity_id=opp.id if opp else None,
                type=ftype, content=text, occurred_at=when, next_followup_at=nxt,
                owner_id=c.owner_id, department_id=c.department_id, department_path=c.department_path,
                created_by_id=c.owner_id, created_at=when, updated_at=when,
            ))
    session.add_all(followups)
    session.flush()
    for f in followups:
        ctx.event(f.occurred_at, "followup.created", "followup", f.id, f.customer_id, f.owner_id, f.content[:60],
                  {"type": f.type, "content": f.content, "contact_id": f.contact_id, "opportunity_id": f.opportunity_id})

    # ---- tags ----------------------------------------------------------------------------------
    won_customers = {op["obj"].customer_id for op in won_ops}
    taggings = []
    for p in plans:
        c = p["obj"]
        names = []
        if c.level == "A" or (c.level == "B" and rng.random() < 0.3):
            names.append("重点客户")
        if c.id in won_customers and (now - c.created_at).days > 180:
            names.append("老客户")
        if not p["followups"] or c.status == "inactive":
            names.append("待激活")
        if any(o.status == "open" and o.stage_id in {s.id for s in open_stages[2:]} for o in opps_by_customer.get(c.id, [])):
            names.append("高意向")
        for extra_tag in ("政府项目", "渠道合作", "续约关注"):
            if rng.random() < 0.06:
                names.append(extra_tag)
        for name in names:
            taggings.append({"tag_id": ctx.tags[name].id, "entity_type": "customer", "entity_id": c.id})
    if taggings:
        session.execute(insert(Tagging), taggings)

    # ---- timeline events, in time order (the timeline pages by id) ------------------------------
    ctx.events.sort(key=lambda e: e["occurred_at"])
    for start in range(0, len(ctx.events), 2000):
        session.execute(insert(Event), ctx.events[start : start + 2000])
    session.flush()


__all__ = ["DEMO_PASSWORD", "load_demo", "person_name", "mobile", "landline", "company_name", "brand", "pinyin_of",
           "contact_email", "REGIONS", "REGIONS_NORTH", "REGIONS_EAST", "REGIONS_OTHER", "INDUSTRIES", "SOURCES",
           "SOURCE_WEIGHTS", "LEVELS", "LEVEL_WEIGHTS", "TITLES", "FOLLOWUP_TYPES", "FOLLOWUP_WEIGHTS", "FOLLOWUP_TEXTS"]

"""Delivery channels: e-mail over SMTP, WeChat Work group robots, generic HMAC-signed webhooks; and the SSRF checks.

Outgoing HTTP goes to the address that was validated (the connection is pinned to the checked IP; TLS still verifies
the certificate against the host name), and every redirect (at most 3, followed by hand) is validated again.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import smtplib
import socket
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from kith.config import Settings

MAX_REDIRECTS = 3
HTTP_TIMEOUT = 10.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are an IPv4 address


class DeliveryError(Exception):
    """A send failed; the outbox retries it with backoff."""


class TargetRefused(DeliveryError):
    """The URL is not an allowed webhook target. `code` is an i18n message key."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# ---------------------------------------------------------------- SSRF checks

@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, text: str | None) -> AllowList:
        hosts, nets = set(), []
        for item in (text or "").replace(";", ",").split(","):
            item = item.strip().lower()
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_ip(self, ip: IPAddress) -> bool:
        for net in self.networks:
            if ip.version == net.version and ip in net:
                return True
        return False


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why this address may not be a webhook target (None: a public address)."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is None and ip in _NAT64:
            mapped = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if mapped is not None:
            return forbidden_reason(mapped)
    for attr in ("is_loopback", "is_link_local", "is_multicast", "is_unspecified", "is_reserved", "is_private"):
        if getattr(ip, attr):
            return attr[3:]
    if not ip.is_global:
        return "not_global"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        return [literal]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError, ValueError) as exc:
        raise TargetRefused("url_unresolvable", f"{host}: {exc}") from None
    out: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if addr not in out:
            out.append(addr)
    if not out:
        raise TargetRefused("url_unresolvable", host)
    return out


def check_url(url: str, allow: AllowList) -> tuple[str, int, IPAddress]:
    """Validate a webhook URL; answer (host, port, the address to connect to). Raises TargetRefused."""
    if not url or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise TargetRefused("url_invalid", "control characters or spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("url_invalid", url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("url_invalid", url)
    if parts.username or parts.password:
        raise TargetRefused("url_invalid", "credentials in the URL")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    if allow.allows_host(host):
        return host, port, addresses[0]
    for ip in addresses:  # every address the name resolves to must be acceptable
        reason = forbidden_reason(ip)
        if reason and not allow.allows_ip(ip):
            raise TargetRefused("url_not_allowed", f"{host} -> {ip} ({reason})")
    return host, port, addresses[0]


def allow_list(settings: Settings) -> AllowList:
    return AllowList.parse(settings.webhook_allowlist)


def post_json(url: str, body: bytes, headers: dict[str, str], allow: AllowList, *, timeout: float = HTTP_TIMEOUT) -> httpx.Response:
    """POST to a validated URL, pinned to the validated address; redirects followed by hand and re-validated."""
    method = "POST"
    content: bytes | None = body
    for _hop in range(MAX_REDIRECTS + 1):
        host, port, ip = check_url(url, allow)
        parts = urlsplit(url)
        ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
        pinned = parts._replace(netloc=f"{ip_host}:{port}").geturl()
        default_port = 443 if parts.scheme == "https" else 80
        req_headers = {**headers, "Host": host if port == default_port else f"{host}:{port}"}
        if content is None:
            req_headers.pop("Content-Type", None)
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
                resp = client.request(method, pinned, content=content, headers=req_headers, extensions=extensions)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:500]) from None
        if resp.status_code in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            url = urljoin(url, resp.headers["location"])
            if resp.status_code in (301, 302, 303):
                method, content = "GET", None
            continue
        return resp
    raise DeliveryError(f"too many redirects (more than {MAX_REDIRECTS})")


# ---------------------------------------------------------------- senders

def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str | None, payload: dict[str, Any], allow: AllowList) -> None:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Kith-Webhook/1", "X-Kith-Timestamp": ts}
    if secret:
        headers["X-Kith-Signature"] = "sha256=" + sign(secret, ts, body)
    resp = post_json(url, body, headers, allow)
    if not 200 <= resp.status_code < 300:
        raise DeliveryError(f"HTTP {resp.status_code}: {resp.text[:200]}")


def send_wechat_work(url: str, payload: dict[str, Any], allow: AllowList) -> None:
    """A WeChat Work group robot: POST {"msgtype": "text"|"markdown", ...}; success is {"errcode": 0}."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    resp = post_json(url, body, {"Content-Type": "application/json; charset=utf-8"}, allow)
    if not 200 <= resp.status_code < 300:
        raise DeliveryError(f"HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        answer = resp.json()
    except ValueError:
        raise DeliveryError(f"not a JSON answer: {resp.text[:200]}") from None
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        errmsg = answer.get("errmsg") if isinstance(answer, dict) else None
        raise DeliveryError(f"errcode={errcode} errmsg={errmsg}"[:500])


def send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise DeliveryError("SMTP is not configured (KITH_SMTP_HOST)")
    msg = EmailMessage()
    msg["From"] = formataddr(("Kith", settings.smtp_from))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=settings.smtp_from.rsplit("@", 1)[-1] or "kith")
    msg.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}"[:500]) from None

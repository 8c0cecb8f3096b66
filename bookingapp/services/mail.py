"""Email about bookings: composing it (in the booking's language) and handing it to SMTP, or to a file.

One message per outbox row: plain text and HTML from ``templates/email/``, the booking's
calendar event attached (METHOD:REQUEST, or CANCEL for a cancellation) with the SEQUENCE
the outbox gave it, and a Message-ID that stays the same on every attempt.

With ``MAIL_URL`` set the message goes to that SMTP server (``smtp://`` speaks STARTTLS
when offered, ``smtps://`` is TLS throughout); without it, it is written as an ``.eml``
file under ``instance/mail/``, so a new installation shows what it would send.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date, formataddr
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency
from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext

from bookingapp.core.mailurl import MailServer, parse_mail_url
from bookingapp.models import Booking, OutboxMessage
from bookingapp.services.delivery import DeliveryError
from bookingapp.services.ics import CANCEL, REQUEST, booking_calendar
from bookingapp.services.money import to_major

SMTP_TIMEOUT = 10  # seconds for each exchange with the server
LANGUAGES = ("en", "de")
WHEN = {"en": "EEEE d MMMM y, HH:mm", "de": "EEEE, d. MMMM y, HH:mm"}
MAIL_DIR = "mail"  # under the app's instance folder


def compose(message: OutboxMessage, now: datetime) -> EmailMessage:
    """The email for one outbox row of a booking (its booking, slot and game loaded)."""
    booking = message.booking
    if booking is None:
        raise DeliveryError("the booking of this message no longer exists", permanent=True)
    language = booking.locale if booking.locale in LANGUAGES else "en"
    config = current_app.config
    venue = {name: config[f"VENUE_{name.upper()}"] for name in ("name", "address", "email", "phone")}
    payload = message.payload or {}
    link = manage_link(booking.reference, payload.get("token"))
    with force_locale(language):
        facts = _facts(message, booking, language, venue, link)
        email = EmailMessage()
        email["Subject"] = _subject(message.kind, facts)
        email["From"] = formataddr((venue["name"], config["MAIL_FROM"]))
        email["To"] = message.recipient
        email["Date"] = rfc2822_date(now)
        email["Message-ID"] = f"<{message.message_id}@{_site_host()}>"
        if venue["email"]:
            email["Reply-To"] = venue["email"]
        email["X-Bookingapp-Kind"] = facts["kind"]  # for filters, and the .eml file's name
        email["X-Bookingapp-Reference"] = booking.reference
        email.set_content(render_template("email/booking.txt", **facts))
        email.add_alternative(render_template("email/booking.html", **facts), subtype="html")
    method = CANCEL if message.kind == "booking.cancelled" else REQUEST
    ics = booking_calendar(booking, now, venue=venue, link=link or config["SITE_URL"], method=method,
                           sequence=int(payload.get("sequence") or 0), organizer=config["MAIL_FROM"])
    email.add_attachment(ics, maintype="text", subtype="calendar", filename=f"booking-{booking.reference}.ics",
                         params={"method": method})
    return email


def manage_link(reference: str, token: str | None) -> str | None:
    """The booking's page with its token, on SITE_URL; None without a token (nobody could open it)."""
    if not token:
        return None
    site = current_app.config["SITE_URL"].rstrip("/")
    return f"{site}/bookings/{reference}?{urlencode({'token': token})}"


def local_when(moment: datetime, zone: str, language: str, *, offset: bool = True) -> str:
    """ "Friday 15 January 2027, 10:00 GMT (UTC+00:00)" on the game's clock, in ``language``."""
    local = moment.astimezone(ZoneInfo(zone))
    text = f"{format_datetime(local, WHEN[language], tzinfo=local.tzinfo, locale=language)} {local.tzname()}"
    if not offset:
        return text
    utc_offset = local.strftime("%z")
    return f"{text} (UTC{utc_offset[:3]}:{utc_offset[3:]})"


def _facts(message: OutboxMessage, booking: Booking, language: str, venue: dict, link: str | None) -> dict:
    game = booking.slot.game
    old = (message.payload or {}).get("old_starts_at")
    return {
        "kind": message.kind.removeprefix("booking."), "booking": booking, "game": game, "venue": venue,
        "link": link, "when": local_when(booking.slot.starts_at, game.timezone, language),
        "short_when": local_when(booking.slot.starts_at, game.timezone, language, offset=False),
        "old_when": local_when(datetime.fromisoformat(old), game.timezone, language) if old else None,
        "length": _duration(game.slot_minutes), "price": _price(booking, language),
        "where": ", ".join(part for part in (venue["name"], game.location, venue["address"]) if part),
        "by_venue": bool((message.payload or {}).get("by_venue")),
    }


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _price(booking: Booking, language: str) -> str | None:
    if booking.amount is None or not booking.currency:
        return None
    if not booking.amount:
        return gettext("Free")
    amount = format_currency(to_major(booking.amount, booking.currency), booking.currency, locale=language)
    return gettext("%(amount)s, pay at the venue", amount=amount)


def _subject(kind: str, facts: dict) -> str:
    names = {"game": facts["game"].name, "when": facts["short_when"]}
    if kind == "booking.moved":
        return gettext("Booking moved: %(game)s, %(when)s", **names)
    if kind == "booking.cancelled":
        return gettext("Booking cancelled: %(game)s, %(when)s", **names)
    if kind == "booking.reminder":
        return gettext("Reminder: %(game)s, %(when)s", **names)
    return gettext("Booking confirmed: %(game)s, %(when)s", **names)


def _site_host() -> str:
    return urlsplit(current_app.config["SITE_URL"]).hostname or "bookingapp"


def open_transport(now: datetime):
    """The current app's transport: SMTP from MAIL_URL, else .eml files under instance/mail/ named by ``now``."""
    url = current_app.config.get("MAIL_URL")
    if url:
        return SmtpTransport(parse_mail_url(url))
    return FileTransport(Path(current_app.instance_path) / MAIL_DIR, now)


class SmtpTransport:
    """One SMTP connection, opened on the first message and reused for the rest of the pass."""

    def __init__(self, server: MailServer, timeout: float = SMTP_TIMEOUT):
        self.server, self.timeout = server, timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> int:
        """Hand ``email`` over; the server's reply code (250), or DeliveryError."""
        try:
            smtp = self._smtp or self._connect()
            refused = smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryError(f"recipient refused: {code} {_text(reply)}", status=code, permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            permanent = exc.smtp_code >= 500 and isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused))
            raise DeliveryError(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", status=exc.smtp_code,
                                permanent=permanent) from None
        except (OSError, smtplib.SMTPException) as exc:  # down, refused, timed out, disconnected, TLS
            self.close()
            raise DeliveryError(f"SMTP server {self.server.host}:{self.server.port} unreachable: "
                                f"{type(exc).__name__}: {exc}") from None
        if refused:
            code, reply = next(iter(refused.values()))
            raise DeliveryError(f"recipient refused: {code} {_text(reply)}", status=code, permanent=code >= 500)
        return 250

    def _connect(self) -> smtplib.SMTP:
        server, context = self.server, ssl.create_default_context()
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if not server.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.username:
                smtp.login(server.username, server.password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class FileTransport:
    """Each message as ``<time>-<kind>-<reference>-<id>.eml`` in one folder (the embedded default)."""

    def __init__(self, folder: Path, now: datetime):
        self.folder, self.now = folder, now

    def send(self, email: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        kind = str(email.get("X-Bookingapp-Kind", "message"))
        name = f"{self.now:%Y%m%d-%H%M%S}-{kind}-{email['X-Bookingapp-Reference']}-{_left(email['Message-ID'])}.eml"
        partial = self.folder / f".{name}.partial"
        partial.write_bytes(bytes(email))
        partial.replace(self.folder / name)  # whole or not at all
        return None

    def close(self) -> None:
        pass


def eml_file(message: OutboxMessage) -> Path | None:
    """The .eml file the embedded default wrote for ``message`` (the newest, if sent again), or None."""
    folder = Path(current_app.instance_path) / MAIL_DIR
    if not folder.is_dir():
        return None
    found = sorted(folder.glob(f"*-{_left(message.message_id)}.eml"))
    return found[-1] if found else None


def _left(message_id: str) -> str:
    return message_id.strip("<>").split("@", 1)[0][:12]


def _text(reply) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)).replace("\n", " ")

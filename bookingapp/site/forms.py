"""The customer forms; the service checks the values again, these only shape them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from bookingapp.errors import DomainError, ValidationError
from bookingapp.services.booking_input import MAX_EMAIL, MAX_NAME
from bookingapp.site.messages import page_message

MAX_SEARCH = 80


class BookingForm(FlaskForm):
    slot_id = IntegerField(
        _l("Time"), validators=[InputRequired(_l("Choose a time."))], invalid_value_message=_l("Choose a time from the list.")
    )
    name = StringField(_l("Your name"), validators=[InputRequired(_l("Tell us your name.")), Length(max=MAX_NAME)])
    email = EmailField(_l("Email"), validators=[InputRequired(_l("We need an email address.")), Length(max=MAX_EMAIL)])
    party_size = IntegerField(
        _l("Players"),
        validators=[InputRequired(_l("How many players?")), NumberRange(min=1, message=_l("At least one player."))],
        invalid_value_message=_l("Enter the number of players as a whole number."),
    )

    def show_error(self, error: DomainError) -> None:
        """Put a refused booking's reasons next to the fields they concern, or above the form."""
        fields = error.fields if isinstance(error, ValidationError) else {}
        placed = [name for name in fields if name in self._fields]
        for name in placed:
            field = self._fields[name]
            field.errors = [*field.errors, f"{field.label.text}: {page_message(fields[name])}."]
        if not placed:
            self.form_errors.append(page_message(error.message))


class CancelForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])


class MoveForm(CancelForm):
    slot_id = IntegerField(
        _l("New time"), validators=[InputRequired(_l("Choose a time."))],
        invalid_value_message=_l("Choose a time from the list."),
    )


def search_text(raw: str | None) -> str:
    """What the home page's search box sent, trimmed (at most MAX_SEARCH characters, no control characters)."""
    text = " ".join((raw or "").split())[:MAX_SEARCH]
    return "".join(ch for ch in text if ch.isprintable())

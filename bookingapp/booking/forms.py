"""The customer forms; the service checks the values again, these only shape them."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from ..errors import DomainError
from .validate import MAX_EMAIL, MAX_NAME


class BookingForm(FlaskForm):
    slot_id = IntegerField(
        "Time", validators=[InputRequired("Choose a time.")], invalid_value_message="Choose a time from the list."
    )
    name = StringField("Your name", validators=[InputRequired("Tell us your name."), Length(max=MAX_NAME)])
    email = EmailField("Email", validators=[InputRequired("We need an email address."), Length(max=MAX_EMAIL)])
    party_size = IntegerField(
        "Players",
        validators=[InputRequired("How many players?"), NumberRange(min=1, message="At least one player.")],
        invalid_value_message="Enter the number of players as a whole number.",
    )

    def show_error(self, error: DomainError) -> None:
        """Put a refused booking's reasons next to the fields they concern."""
        placed = False
        for name, message in error.fields.items():
            field = getattr(self, name, None) if name in self._fields else None
            if field is not None:
                field.errors = [*field.errors, f"{field.label.text}: {message}."]
                placed = True
        if not placed:
            self.form_errors.append(error.message)


class CancelForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])

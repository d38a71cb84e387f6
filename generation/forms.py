"""The Generate form: prompt, model, generation style, the model's own options,
reference images, and the cost estimate, all validated before anything is queued.

The model's options are built from its endpoint's capability descriptors by the
catalog (``catalog.capabilities``), so the form offers exactly what the chosen
endpoint accepts and refuses the rest with a message on the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

from catalog import capabilities, cleaning, estimates, selectors
from catalog import snapshot as snapshots
from catalog.models import Endpoint, ImageModel
from generation import (
    imaging,
    kept_references,
    option_controls,
    preferences,
    storage,
    studio,
    submission_estimates,
)
from generation.form_fields import ModelChoiceBySlug, MultipleImageField
from generation.models import Job, Style
from generation.services import JobRequest
from webapp import inputs

MAX_REFERENCE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REFERENCES = 4
MAX_COMPARE = 6
OPTION_PREFIX = "opt__"
MAX_KEPT = 16


class GenerateForm(inputs.CleanInputMixin, forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Describe the image…"}),
        max_length=4000,
        strip=True,
    )
    model = ModelChoiceBySlug(queryset=ImageModel.objects.none(), to_field_name="slug")
    style = forms.ChoiceField(
        choices=Style.choices,
        initial=Style.IMAGES,
        help_text="How Darkroom asks for the image. The Image API suits most models; Chat "
        "Completions lets chat models reply with text as well; the image tool lets a text "
        "model write the final prompt itself.",
    )
    compare = forms.ModelMultipleChoiceField(
        queryset=ImageModel.objects.none(),
        to_field_name="slug",
        required=False,
        label="Compare with",
        help_text="The same prompt goes to each ticked model too, with its default "
        "options; the results open side by side.",
    )
    references = MultipleImageField(
        required=False,
        label="Reference images",
        help_text="PNG, JPEG or WebP, up to 10 MB each: the model starts from these. "
        "Drop or paste images here too.",
    )
    reference_urls = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://…"}),
        label="Reference image URLs",
        help_text="One per line; the provider downloads them.",
    )
    is_private = forms.BooleanField(
        required=False, label="Private", help_text="Only you will see these images."
    )
    remix_of = forms.UUIDField(required=False, widget=forms.HiddenInput)
    reuse_references = forms.BooleanField(
        required=False,
        label="Use the original's reference images",
        help_text="Send the reference images of the image you are remixing again.",
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
        *,
        user: User,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, files, initial=initial)
        self.user = user
        catalog = snapshots.current()
        # What the menus list (the page's template), from the same copy.
        self.catalog_models: list[ImageModel] = catalog.models
        self.model_list = self.catalog_models
        model_field = cast(ModelChoiceBySlug, self.fields["model"])
        model_field.snapshot = catalog
        model_field.queryset = selectors.generatable_models()
        # Compared models are looked up by a query, and only when some are asked for.
        self.fields["compare"].queryset = selectors.generatable_models()  # type: ignore[attr-defined]
        self.chosen_model = self._chosen_model(catalog)
        self.offered_styles = (
            selectors.offered_styles(self.chosen_model) if self.chosen_model else []
        )
        self._offer_styles()
        self.endpoint: Endpoint | None = (
            selectors.default_endpoint(self.chosen_model) if self.chosen_model else None
        )
        self.kept_references = self._kept_references()
        self.chosen_style = self._chosen_style()
        self.option_names: dict[str, str] = {}
        target = self.option_target
        provider = self.endpoint.provider_name if self.endpoint else ""
        if target is not None:
            for name, field in capabilities.option_fields(target, self.chosen_style).items():
                if name == "model":
                    continue  # the image tool draws with the model picked above
                form_name = OPTION_PREFIX + name.replace(".", "__")
                self.fields[form_name] = option_controls.adjust(name, field, provider)
                self.option_names[form_name] = name
        self.remix_job: Job | None = None
        self.accepts_references = self.style_accepts_references(self.chosen_style)

    def style_accepts_references(self, style: str) -> bool:
        """Whether the chosen model takes reference images in ``style``: Chat
        Completions when the model reads images; the Image API when its endpoint
        has ``input_references`` as well; the image tool never does."""
        model = self.chosen_model
        if model is None or "image" not in (model.input_modalities or []):
            return False
        if style == Style.CHAT:
            return True
        if style == Style.IMAGES:
            return bool(
                self.endpoint and "input_references" in (self.endpoint.supported_parameters or {})
            )
        return False

    def _kept_references(self) -> list[dict[str, Any]]:
        """References uploaded with an earlier, refused submission (or picked from
        the gallery), carried as signed tokens so that nobody can name a file
        they did not upload; a token that does not verify is dropped."""
        if self.is_bound:
            tokens = self.data.getlist("kept_reference") if hasattr(self.data, "getlist") else []
        else:
            tokens = list(self.initial.get("kept_reference") or [])
        found = (
            kept_references.read_reference_token(self.user, token) for token in tokens[:MAX_KEPT]
        )
        return [reference for reference in found if reference is not None]

    def kept_tokens(self) -> list[tuple[str, dict[str, Any]]]:
        """Each reference to carry into the re-rendered form, with its token."""
        references = self.kept_references
        if getattr(self, "cleaned_data", None) and "reference_list" in self.cleaned_data:
            references = [
                r for r in self.cleaned_data["reference_list"] if r.get("kind") == "upload"
            ]
        return [(kept_references.reference_token(self.user, r), r) for r in references]

    @property
    def option_target(self) -> Endpoint | ImageModel | None:
        """What the options depend on: the endpoint for the Image API, the model
        (its family) for Chat Completions and the image tool."""
        if self.chosen_style == Style.IMAGES:
            return self.endpoint
        return self.endpoint or self.chosen_model

    # Which model and style the options are for, before validation.

    def _chosen_model(self, catalog: snapshots.Snapshot) -> ImageModel | None:
        slug = self.data.get("model") if self.is_bound else self.initial.get("model")
        if isinstance(slug, ImageModel):
            return slug
        model = catalog.by_slug.get(slug) if isinstance(slug, str) else None
        return model or studio.default_model(catalog.models)

    def _chosen_style(self) -> str:
        """The style asked for if the model has it, else the model's first: the
        options shown are always ones the model can take (a style it lacks is
        refused on the field, see ``_offer_styles``)."""
        style = self.data.get("style") if self.is_bound else self.initial.get("style")
        chosen = str(style) if style in self.offered_styles else None
        if chosen is None:
            chosen = self.offered_styles[0] if self.offered_styles else Style.IMAGES
        if self.kept_references and not self.style_accepts_references(chosen):
            # References in hand: switch to a style of this model that takes them.
            chosen = next(
                (s for s in self.offered_styles if self.style_accepts_references(s)), chosen
            )
        return chosen

    def _offer_styles(self) -> None:
        """Only the styles the catalog says the chosen model has, in the menu and
        in validation, with a message naming them."""
        field = self.fields["style"]
        labels = dict(Style.choices)
        field.choices = [(style, labels[style]) for style in self.offered_styles]  # type: ignore[attr-defined]
        slug = self.chosen_model.slug if self.chosen_model else "This model"
        offered = ", ".join(str(labels[style]) for style in self.offered_styles)
        field.error_messages["invalid_choice"] = (
            f"{slug} cannot be used through “%(value)s”; it offers: {offered}."
            if offered
            else f"{slug} cannot be used right now: the catalog lists no way to generate with it."
        )

    @classmethod
    def initial_for(cls, user: User, query: Mapping[str, Any]) -> GenerateForm:
        """An unbound form, pre-filled from the query string.

        ``?remix=<job id>`` copies everything from a job the user may see;
        ``?prompt_of=<job id>`` only its prompt; otherwise ``prompt``, ``model``,
        ``style`` and option names (``aspect_ratio``, ``image_config.image_size``)
        are read as given (the model switch sends the form's current values).
        ``?reference=<image id>`` starts from a gallery image as a reference.
        With none of these, the user's remembered model, style and options
        (``generation.preferences``) are offered again.
        """
        initial: dict[str, Any] = {
            key: query.get(key) for key in ("prompt", "model", "style") if query.get(key)
        }
        getlist = getattr(query, "getlist", None)
        initial["kept_reference"] = list(getlist("kept_reference")) if getlist else []
        reference = kept_references.visible_reference(user, query.get("reference"))
        if reference is not None:
            initial["kept_reference"].append(kept_references.reference_token(user, reference))
        options: Mapping[str, Any] = {
            key.removeprefix(OPTION_PREFIX).replace("__", "."): value
            for key, value in query.items()
        }
        remix = kept_references.visible_job(user, query.get("remix"))
        prompt_of = kept_references.visible_job(user, query.get("prompt_of"))
        if remix is None and "model" not in initial:
            remembered = preferences.preferences_for(user)
            if remembered.model_slug:
                initial["model"] = remembered.model_slug
                if remembered.style and "style" not in initial:
                    initial["style"] = remembered.style
                options = {**remembered.options, **options}
        if remix is not None:
            data = cls.data_for_job(remix)
            initial.update(
                prompt=remix.prompt,
                model=remix.model_slug,
                style=remix.style,
                is_private=remix.is_private,
                remix_of=remix.pk,
                reuse_references=any(r.get("kind") == "upload" for r in remix.references),
                reference_urls=data.get("reference_urls", ""),
            )
            options = option_controls.option_values(remix.style, remix.params)
        elif prompt_of is not None:
            initial["prompt"] = prompt_of.prompt
        form = cls(user=user, initial=initial)
        form.remix_job = remix
        for form_name, name in form.option_names.items():
            if name in options:
                form.initial[form_name] = options[name]
        return form

    @staticmethod
    def data_for_job(job: Job) -> dict[str, Any]:
        """Form data that submits ``job`` again through this form ("Run again"),
        so validation and budgets apply as they would to a new request."""
        data: dict[str, Any] = {
            "prompt": job.prompt,
            "model": job.model_slug,
            "style": job.style,
            "remix_of": str(job.remix_of_id or ""),
            "reference_urls": "\n".join(r["url"] for r in job.references if r.get("kind") == "url"),
        }
        if job.is_private:
            data["is_private"] = "on"
        for name, value in option_controls.option_values(job.style, job.params).items():
            data[OPTION_PREFIX + name.replace(".", "__")] = value
        return data

    @classmethod
    def after_submit(cls, form: GenerateForm, user: User) -> GenerateForm:
        """A fresh form keeping the model, style and prompt, ready for the next variation."""
        return cls(
            user=user,
            initial={
                "prompt": form.cleaned_data["prompt"],
                "model": form.cleaned_data["model"].slug,
                "style": form.cleaned_data["style"],
            },
        )

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.option_names]

    # Validation

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.remix_job = kept_references.visible_job(self.user, cleaned.get("remix_of"))
        if cleaned.get("remix_of") and self.remix_job is None:
            self.add_error(None, "The image you are remixing is no longer available.")
        cleaned["reference_list"] = self._clean_references(cleaned)
        if cleaned.get("reuse_references") and self.remix_job is not None:
            cleaned["reference_list"] += [
                r for r in self.remix_job.references if r.get("kind") == "upload"
            ]
        target = self.option_target
        for form_name in self.option_names:
            # Structured options are JSON text: an escaped NUL arrives only now.
            if any(inputs.unstorable_paths(cleaned.get(form_name))):
                self.add_error(form_name, inputs.UNSTORABLE_MESSAGE)
        if target is not None and not self.errors:
            submitted = {
                name: option_controls.submitted_value(
                    self.fields[form_name], name, self.data.get(form_name)
                )
                for form_name, name in self.option_names.items()
                if self.data.get(form_name) not in (None, "")
            }
            try:
                self.params = cleaning.clean_options(
                    target,
                    self.chosen_style,
                    submitted,
                    input_images=len(cleaned["reference_list"]),
                )
            except ValidationError as exc:
                self._add_option_errors(exc)
        compare = list(cleaned.get("compare") or [])
        if len(compare) > MAX_COMPARE:
            self.add_error("compare", f"Compare at most {MAX_COMPARE} models at once.")
        for other in compare:
            if submission_estimates.compare_style(other) is None:
                self.add_error(
                    "compare",
                    f"{other.slug} cannot be compared: it offers neither the Image API "
                    "nor Chat Completions right now.",
                )
        return cleaned

    def _add_option_errors(self, exc: ValidationError) -> None:
        by_name = {name: form_name for form_name, name in self.option_names.items()}
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                messages = [option_controls.plain(m) for e in errors for m in e.messages]
                self.add_error(by_name.get(name), messages)
        else:
            self.add_error(None, exc)

    def _clean_references(self, cleaned: dict[str, Any]) -> list[dict[str, Any]]:
        uploads: list[UploadedFile] = cleaned.get("references") or []
        urls = [line.strip() for line in (cleaned.get("reference_urls") or "").splitlines()]
        urls = [url for url in urls if url]
        kept = self.kept_references
        if not uploads and not urls and not kept:
            return []
        if not self.accepts_references:
            self.add_error(
                "references",
                "This model does not take reference images in this generation style.",
            )
            return []
        limit = self._max_references()
        if len(uploads) + len(urls) + len(kept) > limit:
            self.add_error("references", f"This model takes at most {limit} reference images.")
            return list(kept)
        references: list[dict[str, Any]] = list(kept)
        for url in urls:
            if not url.startswith(("https://", "http://")):
                self.add_error("reference_urls", f"{url[:60]} is not an http(s) URL.")
                return references
            references.append({"kind": "url", "url": url})
        for upload in uploads:
            if upload.size and upload.size > MAX_REFERENCE_BYTES:
                self.add_error("references", f"{upload.name} is larger than 10 MB.")
                return references
            data = upload.read()
            try:
                verified = imaging.verify(data, upload.content_type or "")
            except imaging.ImageRejected as exc:
                self.add_error("references", f"{upload.name}: {exc}")
                return references
            if verified.media_type == "image/svg+xml":
                self.add_error("references", f"{upload.name}: use PNG, JPEG or WebP references.")
                return references
            # Stored and sent on as pixels only: no trailing bytes, chunks or metadata.
            verified = imaging.reencoded(verified)
            key = storage.put(
                storage.reference_key(verified.sha256, verified.media_type), verified.data
            )
            references.append(
                {
                    "kind": "upload",
                    "key": key,
                    "media_type": verified.media_type,
                    "name": upload.name,
                }
            )
        return references

    def _max_references(self) -> int:
        descriptor = (
            (self.endpoint.supported_parameters or {}).get("input_references")
            if self.endpoint
            else None
        )
        if isinstance(descriptor, dict) and isinstance(descriptor.get("max"), int):
            return int(descriptor["max"])
        return DEFAULT_MAX_REFERENCES

    # Results

    def job_requests(self) -> list[JobRequest]:
        cleaned = self.cleaned_data
        model: ImageModel = cleaned["model"]
        params: dict[str, Any] = getattr(self, "params", {})
        n = int(params.get("n", 1)) if self.chosen_style == Style.IMAGES else 1
        requests = [
            JobRequest(
                model=model,
                endpoint=self.endpoint,
                style=self.chosen_style,
                prompt=cleaned["prompt"],
                params=params,
                n=n,
                references=cleaned["reference_list"],
                is_private=cleaned["is_private"],
                estimated_cost=self.estimated_total(),
                remix_of=self.remix_job,
            )
        ]
        for other in cleaned.get("compare") or []:
            if other.pk == model.pk:
                continue
            # Each compared model runs with its defaults, through the Image API
            # where it is offered there, else through Chat Completions (clean()
            # refused a model with neither).
            style = submission_estimates.compare_style(other) or Style.CHAT
            endpoint = selectors.default_endpoint(other) if style == Style.IMAGES else None
            requests.append(
                JobRequest(
                    model=other,
                    endpoint=endpoint,
                    style=style,
                    prompt=cleaned["prompt"],
                    references=cleaned["reference_list"]
                    if "image" in other.input_modalities
                    else [],
                    is_private=cleaned["is_private"],
                    estimated_cost=submission_estimates.estimate(
                        endpoint or other, style, {}, cleaned
                    ).total,
                )
            )
        return requests

    def estimate(self) -> estimates.Estimate | None:
        target = self.option_target
        if target is None:
            return None
        return submission_estimates.estimate(
            target, self.chosen_style, self._estimate_params(), self._estimate_inputs()
        )

    def _estimate_params(self) -> dict[str, Any]:
        """The options as validated, else as typed so far (a half-filled form
        still gets an estimate)."""
        params = getattr(self, "params", None)
        if params is not None:
            return dict(params)
        raw = {
            name: self.data.get(form_name) if self.is_bound else self.initial.get(form_name)
            for form_name, name in self.option_names.items()
        }
        return {key: value for key, value in raw.items() if value not in (None, "")}

    def _estimate_inputs(self) -> Mapping[str, Any]:
        cleaned = getattr(self, "cleaned_data", None)
        if cleaned and "reference_list" in cleaned:
            return cleaned
        prompt = self.data.get("prompt") if self.is_bound else self.initial.get("prompt")
        return {"prompt": prompt or "", "reference_list": self.kept_references}

    def estimated_total(self) -> Decimal:
        result = self.estimate()
        return result.total if result else Decimal(0)

    def compare_models(self) -> list[ImageModel]:
        """The ticked Compare models other than the primary, as submitted."""
        cleaned = getattr(self, "cleaned_data", None) or {}
        if "compare" in cleaned:
            chosen = list(cleaned["compare"] or [])
        else:
            slugs = self.data.getlist("compare") if hasattr(self.data, "getlist") else []
            chosen = [model for model in self.model_list if model.slug in slugs]
        primary = self.chosen_model.pk if self.chosen_model else None
        return [model for model in chosen if model.pk != primary][: MAX_COMPARE + 1]

    def estimate_summary(self) -> submission_estimates.EstimateSummary | None:
        """Everything this submission would queue, its total, and the budgets it
        would exceed (``submission_estimates.summary``)."""
        return submission_estimates.summary(
            self.user,
            self.chosen_model,
            self.chosen_style,
            self.estimate(),
            self._estimate_params(),
            self._estimate_inputs(),
            self.compare_models(),
        )

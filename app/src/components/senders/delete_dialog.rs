use leptos::html::Dialog;
use leptos::prelude::*;

use super::OpenDialog;
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::delete_sender;

/// Renders the confirmation shown by the trash button: names the address, "Supprimer maintenant" and
/// "Annuler". `refresh` reloads the list once the sender is gone.
#[component]
pub fn DeleteDialog(open: RwSignal<OpenDialog>, refresh: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let dialog = NodeRef::<Dialog>::new();
    let error = RwSignal::new(None::<AppError>);
    let delete = Action::new(|sender_id: &String| delete_sender(sender_id.clone()));

    let target = move || match open.get() {
        OpenDialog::Delete(sender) => Some(sender),
        _ => None,
    };

    Effect::new(move |_| {
        let Some(element) = dialog.get() else {
            return;
        };
        if target().is_some() {
            error.set(None);
            if !element.open() {
                let _ = element.show_modal();
            }
        } else if element.open() {
            element.close();
        }
    });

    // A sender already deleted, in another tab for instance, is the outcome the user requested.
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(()) | Err(AppError::SenderNotFound)) => {
            open.set(OpenDialog::Closed);
            refresh.run(());
        }
        Some(Err(other)) => error.set(Some(other)),
        None => {}
    });

    let confirm = move |_| {
        if let Some(sender) = target() {
            delete.dispatch(sender.id);
        }
    };
    let close = move || open.set(OpenDialog::Closed);

    view! {
        <dialog
            node_ref=dialog
            class="confirm-dialog"
            aria-labelledby="delete-title"
            aria-describedby="delete-body"
            on:close=move |_| close()
        >
            <h2 id="delete-title">{t!(i18n, delete.title)}</h2>
            <p id="delete-body">
                {move || {
                    let email = target().map(|sender| sender.email).unwrap_or_default();
                    t_string!(i18n, delete.body, email = email).to_string()
                }}
            </p>
            {move || error.get().map(|error| view! { <ErrorMessage error /> })}
            <div class="dialog-actions">
                <button type="button" class="secondary" on:click=move |_| close()>
                    {t!(i18n, delete.cancel)}
                </button>
                <button type="button" class="danger" disabled=move || delete.pending().get() on:click=confirm>
                    {t!(i18n, delete.confirm)}
                </button>
            </div>
        </dialog>
    }
}

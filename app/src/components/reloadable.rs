//! Data that comes with the page and that the browser loads again after a change.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// A value rendered from the page's data and replaced by later loads. When loads overlap, the
/// value of the newest one is kept, even if an older one finishes after it.
pub struct Reloadable<T: 'static> {
    value: RwSignal<T>,
    /// Number of the newest load started.
    latest: StoredValue<u32>,
}

impl<T: Send + Sync + 'static> Reloadable<T> {
    pub fn new(initial: T) -> Self {
        Self {
            value: RwSignal::new(initial),
            latest: StoredValue::new(0),
        }
    }

    /// Starts `load` and stores its output, unless another load has started meanwhile.
    pub fn reload(self, load: impl Future<Output = T> + 'static) {
        self.latest.update_value(|count| *count = count.wrapping_add(1));
        let number = self.latest.get_value();
        spawn_local(async move {
            let loaded = load.await;
            if self.latest.get_value() == number {
                self.value.set(loaded);
            }
        });
    }

    /// Returns a clone of the current value, tracked by the reactive scope that reads it.
    pub fn get(self) -> T
    where
        T: Clone,
    {
        self.value.get()
    }

    /// Applies `read` to the current value, tracked by the reactive scope that reads it.
    pub fn with<Output>(self, read: impl FnOnce(&T) -> Output) -> Output {
        self.value.with(read)
    }
}

impl<T> Clone for Reloadable<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Reloadable<T> {}

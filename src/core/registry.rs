//! Namespace names and the small ids that stand for them everywhere else.

use super::error::CoreError;
use super::NsId;
use std::collections::HashMap;

/// The library's own namespace, where workers announce readiness.
pub const INTERNAL_NAME: &str = "clusterphone";
/// The internal namespace always has id 0.
pub const INTERNAL_NS: NsId = 0;
/// Ids fit in 16 bits, with the two top values kept for "unknown" and "invalid" on the wire side.
pub const MAX_NAMESPACES: usize = 0xfffe;

#[derive(Debug)]
pub struct Registry {
    ids: HashMap<String, NsId>,
    names: Vec<String>,
}

impl Default for Registry {
    fn default() -> Self {
        let mut registry = Registry {
            ids: HashMap::new(),
            names: Vec::new(),
        };
        registry.insert(INTERNAL_NAME);
        registry
    }
}

impl Registry {
    /// The id of a user namespace, creating it on first use. The same name always gets the same id.
    pub fn open(&mut self, name: &str) -> Result<NsId, CoreError> {
        if name.is_empty() {
            return Err(CoreError::NameRequired);
        }
        if name == INTERNAL_NAME {
            return Err(CoreError::PrivateName);
        }
        match self.ids.get(name) {
            Some(&id) => Ok(id),
            None if self.names.len() >= MAX_NAMESPACES => Err(CoreError::TooManyNamespaces),
            None => Ok(self.insert(name)),
        }
    }

    pub fn lookup(&self, name: &str) -> Option<NsId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: NsId) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn insert(&mut self, name: &str) -> NsId {
        let id = self.names.len() as NsId;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_namespace_is_id_zero_and_private() {
        let mut registry = Registry::default();
        assert_eq!(registry.lookup(INTERNAL_NAME), Some(INTERNAL_NS));
        assert_eq!(registry.open(INTERNAL_NAME), Err(CoreError::PrivateName));
    }

    #[test]
    fn same_name_same_id() {
        let mut registry = Registry::default();
        let a = registry.open("_").expect("valid name");
        let b = registry.open("myapp").expect("valid name");
        assert_ne!(a, b);
        assert_eq!(registry.open("_"), Ok(a));
        assert_eq!(registry.name(b), Some("myapp"));
        assert_eq!(registry.len(), 3);
    }

    #[test]
    fn empty_name_is_a_type_error() {
        let mut registry = Registry::default();
        let err = registry.open("").expect_err("empty name");
        assert_eq!(err, CoreError::NameRequired);
        assert_eq!(err.class(), super::super::error::ErrorClass::TypeError);
        assert!(err.to_string().to_lowercase().contains("name is required"));
    }
}

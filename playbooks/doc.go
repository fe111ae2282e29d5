// Package playbooks owns what the user writes and how it becomes work: the playbook and inventory
// YAML models, their validation (errors name file:line:column and what to write instead), Compile
// (playbook + a host's Facts -> ordered steps and services), and Rollout, which runs one host from
// connection to verification and rollback.
package playbooks

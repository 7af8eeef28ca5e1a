// Package agent is planeless's CNI node agent (`planeless cni-agent`, the
// chart's DaemonSet with cni.enabled, the only privileged part of CNI
// mode). On its node it:
//
//   - copies the planeless binary into the CNI bin folder as the plugin
//     (planeless-cni) and writes the kubeconfig the plugin reads pods with,
//     from the agent's own service account (install.go);
//   - chains the plugin into the node's CNI configuration: an entry
//     appended to the plugins of the first configuration file in the CNI
//     conf folder (the one the runtime uses), a .conf turned into a
//     .conflist, every write atomic (conflist.go, the pure edit; confdir.go,
//     the files);
//   - watches the folder and chains the plugin again when the primary CNI
//     rewrites its file;
//   - deletes the pods of its node whose planeless-validate check failed
//     because they were created before the plugin was in place, so that
//     their controllers recreate them with their rules (repair.go);
//   - on SIGTERM (uninstall, upgrade, restart) removes its entry, the
//     binary and the kubeconfig: the configuration file is given back
//     byte for byte as the primary CNI wrote it, when nobody changed it
//     since.
//
// Running it again changes nothing: every step checks what is there first.
package agent

// Package workflows holds TicketLifecycle, the durable workflow that is the
// single writer of one ticket, with the names, payloads and search attributes
// the API, the worker and Temporal UI share.
//
// Workflow code here must stay deterministic: no I/O, no time.Now, no map
// iteration, no metrics. Any change to recorded behaviour goes behind
// workflow.GetVersion and is proved by the replay test over testdata/.
//
// It may import activities and models.
package workflows

// Package ops holds the zoo's fused Gorgonia ops: the hot paths of its
// models (affine layers, activations, the BCE loss, column sums of squares,
// top-K, 2-D convolutions, transposed convolutions and max pooling), each one node that owns and reuses its output tensor, with its
// gradient built from ops of the same kind.
//
// A compiled program allocates nothing for these nodes after its first run:
// Gorgonia's TapeMachine forgets its registers at every Reset, so stock ops
// allocate a fresh output every step, while a fused node overwrites its own.
// The gradient-only ops (used inside gradients, never differentiated again)
// share one base, gradOnly.
package ops

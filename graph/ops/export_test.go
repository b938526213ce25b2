package ops

// Matrix is matrix for the external tests.
var Matrix = matrix

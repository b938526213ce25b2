// Package classify is the zoo's supervised head: a multilayer perceptron
// classifier declared as a Gorgonia graph with package graph, whose loss is
// the softmax cross-entropy as one graph node (SoftmaxCrossEntropy), trained
// with Adam and early stopping on a seeded validation split of the training
// set.
//
//	h_1  = act(x·W_1 + b_1),  h_l = act(h_{l−1}·W_l + b_l)     (Config.Hidden)
//	l    = h_L·V + c                                          (logits)
//	loss = mean_n [ log Σ_k exp(l_nk) − l_n,y_n ] + ½λ·Σ_l ‖W_l‖²   (+ ½λ‖V‖²)
//
// Its hidden layers can start from given weights (Config.Init), such as the
// encoder of a trained autoencoder (EncoderLayers, EncoderFromRun): that is
// the supervised fine-tuning of a pretrained network (Hinton & Salakhutdinov
// 2006, Vincent et al. 2010, Rifai et al. 2011). A trained Classifier
// reports its error rate, class probabilities and penultimate-layer
// features on any labelled data set, and saves to and loads from a folder
// of .npy files.
package classify

// The translation unit that owns cluedrop's precompiled <torch/torch.h>
// (cmake/CluedropTorch.cmake, cluedrop_torch_pch). Intentionally empty.

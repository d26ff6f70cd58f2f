// CPU build: no CUDA code is compiled in.
#include "workers/model/device_inventory.h"

namespace cluedrop {

DeviceInventory QueryDevices() {
  DeviceInventory inventory;
  inventory.cuda_built = false;
  inventory.note = "built without CUDA (CLUEDROP_WITH_CUDA=OFF)";
  return inventory;
}

}  // namespace cluedrop

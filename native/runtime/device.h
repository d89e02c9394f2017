// Device strings as users write them ("cpu", "cuda", "cuda:N") and the checks that they exist here.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace das {

// Parses a device string and checks that the device is usable with this libtorch.
// Throws std::invalid_argument naming the string and what is wrong with it.
c10::Device ParseDevice(const std::string& spec);

// Canonical spelling: "cpu" or "cuda:N".
std::string DeviceName(const c10::Device& device);

}  // namespace das

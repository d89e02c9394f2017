#include "checkpoint/pickle_globals.h"

#include <array>
#include <cstdint>
#include <stdexcept>

namespace das::checkpoint {

namespace {

enum class Global : int64_t {
  kRebuildTensorV2,           // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
  kRebuildTensor,             // torch._utils._rebuild_tensor(storage, offset, size, stride)
  kRebuildParameter,          // torch._utils._rebuild_parameter(tensor, requires_grad, hooks)
  kRebuildParameterWithState, // torch._utils._rebuild_parameter_with_state(tensor, requires_grad, hooks, state)
  kStorageClass,              // torch.FloatStorage, ...: only ever inside a persistent id
  kOrderedDict,               // a dict whose BUILD state holds attributes (state_dict()._metadata)
  kAttributeDict,             // Lightning's hyper_parameters container: a plain dict subclass
  kNamespace,                 // argparse.Namespace (old Lightning hparams): BUILD state becomes entries
  kTorchSize,                 // torch.Size(tuple)
  kSet,                       // builtins.set / frozenset(iterable): kept as a list
  kCodecsEncode,              // _codecs.encode(str, "latin1"): how protocol 2 writes bytes
};

struct Allowed {
  const char* module;
  const char* name;
  Global kind;
};

constexpr std::array<Allowed, 16> kAllowed{{
    {"torch._utils", "_rebuild_tensor_v2", Global::kRebuildTensorV2},
    {"torch._utils", "_rebuild_tensor", Global::kRebuildTensor},
    {"torch._utils", "_rebuild_parameter", Global::kRebuildParameter},
    {"torch._utils", "_rebuild_parameter_with_state", Global::kRebuildParameterWithState},
    {"collections", "OrderedDict", Global::kOrderedDict},
    {"pytorch_lightning.utilities.parsing", "AttributeDict", Global::kAttributeDict},
    {"lightning.fabric.utilities.data", "AttributeDict", Global::kAttributeDict},
    {"lightning_fabric.utilities.data", "AttributeDict", Global::kAttributeDict},
    {"lightning.pytorch.utilities.parsing", "AttributeDict", Global::kAttributeDict},
    {"argparse", "Namespace", Global::kNamespace},
    {"torch", "Size", Global::kTorchSize},
    {"builtins", "set", Global::kSet},
    {"builtins", "frozenset", Global::kSet},
    {"_codecs", "encode", Global::kCodecsEncode},
    {"__builtin__", "set", Global::kSet},  // protocol 2 spells builtins "__builtin__"
    {"__builtin__", "frozenset", Global::kSet},
}};

Global KindOf(const Value& global) { return static_cast<Global>(global.integer); }

ValuePtr Make(Value::Kind kind) {
  auto value = std::make_shared<Value>();
  value->kind = kind;
  return value;
}

const Value& Arg(const Value& args, size_t index, Value::Kind kind, const char* what) {
  if (index >= args.items.size() || !args.items[index]->Is(kind)) {
    throw std::runtime_error(std::string("argument ") + std::to_string(index) + " (" + what + ") should be a " + KindName(kind));
  }
  return *args.items[index];
}

std::vector<int64_t> IntTuple(const Value& tuple, const char* what) {
  std::vector<int64_t> values;
  for (const ValuePtr& item : tuple.items) {
    if (!item->Is(Value::Kind::kInt) || item->integer < 0) throw std::runtime_error(std::string(what) + " must hold non-negative integers");
    values.push_back(item->integer);
  }
  return values;
}

// The view must stay inside its storage: offset + sum((size - 1) * stride) < storage numel.
ValuePtr RebuildTensor(const Value& args, size_t min_args, size_t max_args) {
  if (args.items.size() < min_args || args.items.size() > max_args) {
    throw std::runtime_error("expected " + std::to_string(min_args) + " to " + std::to_string(max_args) + " arguments, got " +
                             std::to_string(args.items.size()));
  }
  const Value& storage = Arg(args, 0, Value::Kind::kStorage, "storage");
  const Value& offset = Arg(args, 1, Value::Kind::kInt, "storage offset");
  auto tensor = Make(Value::Kind::kTensor);
  TensorRef& ref = tensor->tensor;
  ref.storage = storage.storage;
  ref.storage_offset = offset.integer;
  ref.sizes = IntTuple(Arg(args, 2, Value::Kind::kTuple, "size"), "size");
  ref.strides = IntTuple(Arg(args, 3, Value::Kind::kTuple, "stride"), "stride");
  if (ref.sizes.size() != ref.strides.size()) throw std::runtime_error("size and stride have different lengths");
  if (ref.storage_offset < 0) throw std::runtime_error("negative storage offset");
  __int128 last = ref.storage_offset;
  bool empty = false;
  for (size_t i = 0; i < ref.sizes.size(); ++i) {
    if (ref.sizes[i] == 0) empty = true;
    last += static_cast<__int128>(ref.sizes[i] > 0 ? ref.sizes[i] - 1 : 0) * ref.strides[i];
  }
  if (!empty && last >= ref.storage.numel) {
    const std::string reach = last > INT64_MAX ? std::string("beyond 2^63") : std::to_string(static_cast<int64_t>(last));
    throw std::runtime_error("the tensor view reaches element " + reach + " of storage " + ref.storage.key + ", which has only " +
                             std::to_string(ref.storage.numel) + " elements");
  }
  return tensor;
}

// Protocol 2 pickles bytes as _codecs.encode(<the bytes as latin-1 code points>, "latin1").
ValuePtr Latin1Encode(const Value& args) {
  const std::string& text = Arg(args, 0, Value::Kind::kString, "text").text;
  const Value& encoding = Arg(args, 1, Value::Kind::kString, "encoding");
  if (encoding.text != "latin1" && encoding.text != "latin-1") throw std::runtime_error("only the latin1 encoding is supported");
  auto bytes = Make(Value::Kind::kBytes);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      bytes->text.push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < text.size()) {
      bytes->text.push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<uint8_t>(text[++i]) & 0x3f)));
    } else {
      throw std::runtime_error("the text is not latin-1");
    }
  }
  return bytes;
}

ValuePtr NewDict(const Value& cls) {
  auto dict = Make(Value::Kind::kDict);
  dict->text = cls.text;  // remembers the class: BUILD treats OrderedDict and Namespace differently
  return dict;
}

}  // namespace

std::optional<Value> ResolveGlobal(const std::string& module, const std::string& name) {
  Value global;
  global.kind = Value::Kind::kGlobal;
  global.text = module + "." + name;
  if (module == "torch") {
    if (const auto dtype = FromStorageClass(name)) {
      global.integer = static_cast<int64_t>(Global::kStorageClass);
      global.storage.dtype = *dtype;
      return global;
    }
  }
  for (const Allowed& allowed : kAllowed) {
    if (module == allowed.module && name == allowed.name) {
      global.integer = static_cast<int64_t>(allowed.kind);
      return global;
    }
  }
  return std::nullopt;
}

ValuePtr CallGlobal(const Value& callable, const Value& args) {
  if (!args.Is(Value::Kind::kTuple)) throw std::runtime_error("the arguments of " + callable.text + " are not a tuple");
  switch (KindOf(callable)) {
    case Global::kRebuildTensorV2: return RebuildTensor(args, 6, 7);
    case Global::kRebuildTensor: return RebuildTensor(args, 4, 4);
    case Global::kRebuildParameter:
    case Global::kRebuildParameterWithState: {
      const Value& tensor = Arg(args, 0, Value::Kind::kTensor, "data");
      auto copy = std::make_shared<Value>(tensor);
      return copy;
    }
    case Global::kOrderedDict:
    case Global::kAttributeDict: {
      auto dict = NewDict(callable);
      if (args.items.empty()) return dict;
      const Value& source = *args.items[0];
      if (source.Is(Value::Kind::kDict)) {
        for (const auto& [key, value] : source.entries) dict->Set(key, value);
        return dict;
      }
      if (!source.Is(Value::Kind::kList) && !source.Is(Value::Kind::kTuple)) throw std::runtime_error("expected a dict or a list of pairs");
      for (const ValuePtr& pair : source.items) {
        if (pair->items.size() != 2) throw std::runtime_error("expected a list of (key, value) pairs");
        dict->Set(pair->items[0], pair->items[1]);
      }
      return dict;
    }
    case Global::kTorchSize: {
      auto tuple = Make(Value::Kind::kTuple);
      tuple->items = Arg(args, 0, Value::Kind::kTuple, "sizes").items;
      return tuple;
    }
    case Global::kSet: {
      auto list = Make(Value::Kind::kList);
      if (!args.items.empty()) {
        const Value& source = *args.items[0];
        if (!source.Is(Value::Kind::kList) && !source.Is(Value::Kind::kTuple)) throw std::runtime_error("expected a list");
        list->items = source.items;
      }
      return list;
    }
    case Global::kCodecsEncode: return Latin1Encode(args);
    case Global::kNamespace:
    case Global::kStorageClass: break;
  }
  throw std::runtime_error(callable.text + " cannot be called here");
}

ValuePtr NewObject(const Value& cls, const Value& args) {
  // Dict subclasses and Namespace are pickled with no constructor arguments; their content follows.
  if (!args.Is(Value::Kind::kTuple) || !args.items.empty()) throw std::runtime_error("unexpected constructor arguments for " + cls.text);
  switch (KindOf(cls)) {
    case Global::kOrderedDict:
    case Global::kAttributeDict:
    case Global::kNamespace: return NewDict(cls);
    default: throw std::runtime_error(cls.text + " cannot be instantiated here");
  }
}

void ApplyState(Value& object, const Value& state) {
  if (!object.Is(Value::Kind::kDict)) throw std::runtime_error(std::string("BUILD on a ") + KindName(object.kind) + " is not supported");
  // A Namespace's attributes are its content; a dict subclass's attributes (OrderedDict._metadata,
  // AttributeDict's __dict__) are not items, and are dropped.
  if (object.text == "argparse.Namespace") {
    if (!state.Is(Value::Kind::kDict)) throw std::runtime_error("the state of an argparse.Namespace should be a dict");
    for (const auto& [key, value] : state.entries) object.Set(key, value);
  }
}

const char* AllowlistSummary() {
  return "only tensors, torch storages, OrderedDict, Lightning's AttributeDict, argparse.Namespace, torch.Size, sets and "
         "plain Python data may appear in a weights-only checkpoint";
}

}  // namespace das::checkpoint

//===- Npy.cpp - NumPy .npy reader and writer -----------------------------===//
//
// The format: magic "\x93NUMPY", a version, a little-endian header length,
// then a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape':
// (...)} padded so the data starts at a multiple of 64 bytes.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Support/Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace quantopt {

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

size_t NpyArray::itemSize() const {
  size_t size = 0;
  if (dtype.size() < 3 || StringRef(dtype).substr(2).getAsInteger(10, size))
    return 0;
  return size;
}

std::string NpyArray::shapeString() const {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

static Error makeError(StringRef name, const Twine &msg) {
  return createStringError(inconvertibleErrorCode(),
                           (name + ": " + msg).str());
}

/// Returns the text of the value that follows `'key':` in the header dict.
static std::optional<StringRef> findValue(StringRef header, StringRef key) {
  std::string quoted = ("'" + key + "'").str();
  size_t pos = header.find(quoted);
  if (pos == StringRef::npos)
    return std::nullopt;
  StringRef rest = header.substr(pos + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  return rest.ltrim();
}

Expected<NpyArray> parseNpy(StringRef bytes, StringRef name) {
  if (!bytes.consume_front("\x93NUMPY"))
    return makeError(name, "not a .npy file (bad magic)");
  if (bytes.size() < 2)
    return makeError(name, "truncated .npy header");
  uint8_t major = bytes[0];
  bytes = bytes.drop_front(2);
  size_t headerLen;
  if (major == 1) {
    if (bytes.size() < 2)
      return makeError(name, "truncated .npy header");
    headerLen = uint8_t(bytes[0]) | (size_t(uint8_t(bytes[1])) << 8);
    bytes = bytes.drop_front(2);
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 4)
      return makeError(name, "truncated .npy header");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = (headerLen << 8) | uint8_t(bytes[i]);
    bytes = bytes.drop_front(4);
  } else {
    return makeError(name, "unsupported .npy version " + Twine(int(major)));
  }
  if (bytes.size() < headerLen)
    return makeError(name, "truncated .npy header");
  StringRef header = bytes.take_front(headerLen);
  bytes = bytes.drop_front(headerLen);

  NpyArray array;
  std::optional<StringRef> descr = findValue(header, "descr");
  if (!descr || descr->size() < 2 || !descr->starts_with("'"))
    return makeError(name, "header has no 'descr'");
  array.dtype = descr->drop_front().take_until([](char c) { return c == '\''; }).str();
  if (array.dtype.size() < 3)
    return makeError(name, "unsupported dtype '" + array.dtype + "'");
  char order = array.dtype[0];
  if (order == '>' && array.itemSize() > 1)
    return makeError(name, "big-endian arrays are not supported");
  if (order == '>' || order == '=')
    array.dtype[0] = array.itemSize() == 1 ? '|' : '<';
  if (array.itemSize() == 0 || !StringRef("fiub").contains(array.dtype[1]))
    return makeError(name, "unsupported dtype '" + array.dtype + "'");

  std::optional<StringRef> fortran = findValue(header, "fortran_order");
  if (!fortran)
    return makeError(name, "header has no 'fortran_order'");
  if (fortran->starts_with("True"))
    return makeError(name, "Fortran-ordered arrays are not supported; save "
                           "with np.ascontiguousarray");

  std::optional<StringRef> shape = findValue(header, "shape");
  if (!shape || !shape->starts_with("("))
    return makeError(name, "header has no 'shape'");
  StringRef dims = shape->drop_front().take_until([](char c) { return c == ')'; });
  SmallVector<StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t d;
    if (part.getAsInteger(10, d) || d < 0)
      return makeError(name, "bad shape entry '" + part + "'");
    array.shape.push_back(d);
  }
  // Checked: a header may claim any shape.
  int64_t expected = int64_t(array.itemSize());
  for (int64_t d : array.shape)
    if (llvm::MulOverflow(expected, d, expected))
      return makeError(name, "shape " + array.shapeString() + " is too large");
  if (bytes.size() < uint64_t(expected))
    return makeError(name, "truncated data: expected " + Twine(expected) +
                               " bytes for shape " + array.shapeString() +
                               ", found " + Twine(bytes.size()));
  array.data.assign(bytes.begin(), bytes.begin() + expected);
  return array;
}

Expected<NpyArray> readNpy(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path, "cannot read: " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

namespace {
/// Whether `length` bytes from `offset` lie within `size` bytes (without
/// the overflow of offset + length: the offsets come from the file).
bool fits(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

uint64_t readLE(llvm::StringRef bytes, size_t offset, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i)
    v |= uint64_t(uint8_t(bytes[offset + i])) << (8 * i);
  return v;
}
} // namespace

Expected<std::vector<std::pair<std::string, NpyArray>>>
readNpz(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path, "cannot read: " + buffer.getError().message());
  StringRef zip = (*buffer)->getBuffer();
  // The end-of-central-directory record: the last "PK\5\6" in the file.
  size_t eocd = zip.rfind(StringRef("PK\x05\x06", 4));
  if (eocd == StringRef::npos || eocd + 22 > zip.size())
    return makeError(path, "not a .npz (zip) archive");
  uint64_t entries = readLE(zip, eocd + 10, 2);
  uint64_t dirOffset = readLE(zip, eocd + 16, 4);
  if (dirOffset == 0xFFFFFFFF) {
    // zip64: the locator just before the record points at the zip64 EOCD.
    if (eocd < 20 || readLE(zip, eocd - 20, 4) != 0x07064b50)
      return makeError(path, "malformed zip64 archive");
    uint64_t z64 = readLE(zip, eocd - 12, 8);
    if (!fits(z64, 56, zip.size()) || readLE(zip, z64, 4) != 0x06064b50)
      return makeError(path, "malformed zip64 archive");
    entries = readLE(zip, z64 + 32, 8);
    dirOffset = readLE(zip, z64 + 48, 8);
  }
  std::vector<std::pair<std::string, NpyArray>> arrays;
  uint64_t pos = dirOffset;
  for (uint64_t i = 0; i < entries; ++i) {
    if (!fits(pos, 46, zip.size()) || readLE(zip, pos, 4) != 0x02014b50)
      return makeError(path, "malformed zip central directory");
    uint64_t method = readLE(zip, pos + 10, 2);
    uint64_t size = readLE(zip, pos + 24, 4);
    uint64_t nameLen = readLE(zip, pos + 28, 2);
    uint64_t extraLen = readLE(zip, pos + 30, 2);
    uint64_t commentLen = readLE(zip, pos + 32, 2);
    uint64_t local = readLE(zip, pos + 42, 4);
    if (!fits(pos, 46 + nameLen + extraLen, zip.size()))
      return makeError(path, "malformed zip central directory");
    std::string name = zip.substr(pos + 46, nameLen).str();
    // zip64 extra field: the 8-byte values of the 0xFFFFFFFF fields, in
    // the order uncompressed size, compressed size, local header offset.
    StringRef extra = zip.substr(pos + 46 + nameLen, extraLen);
    for (size_t e = 0; e + 4 <= extra.size();) {
      uint64_t id = readLE(extra, e, 2), len = readLE(extra, e + 2, 2);
      if (id == 1) {
        size_t f = e + 4;
        if (size == 0xFFFFFFFF && f + 8 <= extra.size()) {
          size = readLE(extra, f, 8);
          f += 8;
        }
        if (readLE(zip, pos + 20, 4) == 0xFFFFFFFF && f + 8 <= extra.size())
          f += 8; // compressed size (equal to size when stored)
        if (local == 0xFFFFFFFF && f + 8 <= extra.size())
          local = readLE(extra, f, 8);
      }
      e += 4 + len;
    }
    if (method != 0)
      return makeError(path, "'" + name +
                                 "' is compressed; write the archive with "
                                 "np.savez, not np.savez_compressed");
    if (!fits(local, 30, zip.size()) || readLE(zip, local, 4) != 0x04034b50)
      return makeError(path, "malformed zip local header for '" + name + "'");
    uint64_t data = local + 30 + readLE(zip, local + 26, 2) +
                    readLE(zip, local + 28, 2);
    if (!fits(data, size, zip.size()))
      return makeError(path, "truncated entry '" + name + "'");
    auto array = parseNpy(zip.substr(data, size), (path + ":" + name).str());
    if (!array)
      return array.takeError();
    StringRef key(name);
    key.consume_back(".npy");
    arrays.emplace_back(key.str(), std::move(*array));
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return arrays;
}

std::string serializeNpy(const NpyArray &array) {
  std::string header = "{'descr': '" + array.dtype +
                       "', 'fortran_order': False, 'shape': " +
                       array.shapeString() + ", }";
  // Pad with spaces so magic + version + length + header + '\n' is a
  // multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(header.size() & 0xFF);
  out += char((header.size() >> 8) & 0xFF);
  out += header;
  out.append(reinterpret_cast<const char *>(array.data.data()),
             array.data.size());
  return out;
}

Error writeNpy(StringRef path, const NpyArray &array) {
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return makeError(path, "cannot write: " + ec.message());
  os << serializeNpy(array);
  if (os.has_error())
    return makeError(path, "write failed");
  return Error::success();
}

} // namespace quantopt

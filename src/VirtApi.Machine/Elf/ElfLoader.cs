using System.Buffers.Binary;
using System.Text;

namespace VirtApi.Machine.Elf;

/// <summary>A loadable segment (PT_LOAD).</summary>
public sealed record ElfSegment(ulong Address, byte[] Data, ulong MemorySize, bool Read, bool Write, bool Execute);

/// <summary>What the machine needs of an ELF executable: entry, segments and symbols.</summary>
public sealed record ElfImage(ulong Entry, IReadOnlyList<ElfSegment> Segments, IReadOnlyDictionary<string, ulong> Symbols);

/// <summary>An ELF file the machine cannot load; the message names what is wrong.</summary>
public sealed class ElfFormatException(string message) : Exception(message);

/// <summary>
/// Reads ELF64 little-endian RISC-V executables (System V gABI, RISC-V ELF psABI): the header,
/// PT_LOAD program headers and the symbol table. Anything else is a clear error.
/// </summary>
public static class ElfLoader
{
    private const ushort EmRiscV = 243;

    public static bool TryParse(ReadOnlySpan<byte> bytes, out ElfImage? image, out string? error)
    {
        try
        {
            image = Parse(bytes);
            error = null;
            return true;
        }
        catch (ElfFormatException e)
        {
            image = null;
            error = e.Message;
            return false;
        }
    }

    public static ElfImage Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 64 || !bytes[..4].SequenceEqual("\u007fELF"u8))
        {
            throw new ElfFormatException("not an ELF file: the first bytes are not 7f 45 4c 46 ('\\x7fELF')");
        }
        if (bytes[4] != 2)
        {
            throw new ElfFormatException($"wrong ELF class {bytes[4]}: only ELF64 (class 2) is supported");
        }
        if (bytes[5] != 1)
        {
            throw new ElfFormatException($"wrong byte order {bytes[5]}: only little-endian (1) is supported");
        }
        var type = BinaryPrimitives.ReadUInt16LittleEndian(bytes[16..]);
        if (type != 2)
        {
            throw new ElfFormatException($"wrong ELF type {type}: only executables (ET_EXEC, 2) can be loaded");
        }
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(bytes[18..]);
        if (machine != EmRiscV)
        {
            throw new ElfFormatException($"wrong machine {machine}: only RISC-V (EM_RISCV, 243) is supported");
        }
        var entry = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes[32..]);
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(bytes[54..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(bytes[56..]);
        var shentsize = BinaryPrimitives.ReadUInt16LittleEndian(bytes[58..]);
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(bytes[60..]);

        var segments = new List<ElfSegment>();
        for (var i = 0; i < phnum; i++)
        {
            var header = Slice(bytes, phoff + ((ulong)i * phentsize), 56, $"program header {i}");
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != 1)
            {
                continue; // only PT_LOAD matters for a bare-metal image
            }
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            var address = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
            var fileSize = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            var memorySize = BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
            if (fileSize > memorySize)
            {
                throw new ElfFormatException($"segment {i} at 0x{address:x} has more file bytes ({fileSize}) than memory bytes ({memorySize})");
            }
            if (address + memorySize < address)
            {
                throw new ElfFormatException($"segment {i} at 0x{address:x} wraps around the address space");
            }
            var data = Slice(bytes, offset, fileSize, $"segment {i}").ToArray();
            segments.Add(new ElfSegment(address, data, memorySize, (flags & 4) != 0, (flags & 2) != 0, (flags & 1) != 0));
        }
        if (segments.Count == 0)
        {
            throw new ElfFormatException("the file has no loadable (PT_LOAD) segment");
        }
        return new ElfImage(entry, segments, ReadSymbols(bytes, shoff, shentsize, shnum));
    }

    /// <summary>Checks that every segment lies in RAM [base, base + size).</summary>
    public static void CheckFits(ElfImage image, ulong ramBase, ulong ramSize)
    {
        foreach (var segment in image.Segments)
        {
            if (segment.Address < ramBase || segment.Address + segment.MemorySize > ramBase + ramSize)
            {
                throw new ElfFormatException(
                    $"segment at 0x{segment.Address:x} ({segment.MemorySize} bytes) lies outside RAM [0x{ramBase:x}, 0x{ramBase + ramSize:x})");
            }
        }
    }

    private static Dictionary<string, ulong> ReadSymbols(ReadOnlySpan<byte> bytes, ulong shoff, ushort shentsize, ushort shnum)
    {
        var symbols = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if (shoff == 0 || shnum == 0)
        {
            return symbols;
        }
        for (var i = 0; i < shnum; i++)
        {
            var section = Slice(bytes, shoff + ((ulong)i * shentsize), 64, $"section header {i}");
            if (BinaryPrimitives.ReadUInt32LittleEndian(section[4..]) != 2)
            {
                continue; // SHT_SYMTAB
            }
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(section[24..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(section[32..]);
            var link = BinaryPrimitives.ReadUInt32LittleEndian(section[40..]);
            var strings = Slice(bytes, shoff + ((ulong)link * shentsize), 64, $"section header {link}");
            var stringTable = Slice(bytes, BinaryPrimitives.ReadUInt64LittleEndian(strings[24..]), BinaryPrimitives.ReadUInt64LittleEndian(strings[32..]), "string table");
            var table = Slice(bytes, offset, size, "symbol table");
            for (var s = 24; s + 24 <= table.Length; s += 24)
            {
                var nameOffset = (int)BinaryPrimitives.ReadUInt32LittleEndian(table[s..]);
                if (nameOffset == 0 || nameOffset >= stringTable.Length)
                {
                    continue;
                }
                var nameBytes = stringTable[nameOffset..];
                var end = nameBytes.IndexOf((byte)0);
                var name = Encoding.UTF8.GetString(end < 0 ? nameBytes : nameBytes[..end]);
                var type = table[s + 4] & 0xf;
                if (type is 3 or 4)
                {
                    continue; // STT_SECTION, STT_FILE
                }
                symbols.TryAdd(name, BinaryPrimitives.ReadUInt64LittleEndian(table[(s + 8)..]));
            }
        }
        return symbols;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> bytes, ulong offset, ulong length, string what)
    {
        if (offset > (ulong)bytes.Length || length > (ulong)bytes.Length - offset)
        {
            throw new ElfFormatException($"{what} (offset {offset}, {length} bytes) lies outside the {bytes.Length}-byte file");
        }
        return bytes.Slice((int)offset, (int)length);
    }
}

using System.Buffers.Binary;
using System.Text;

namespace VirtApi.Assembler.Tests;

/// <summary>Reads the allocated sections of an ELF64 file: name, address, size and bytes (none for NOBITS).</summary>
internal static class ElfSections
{
    public sealed record Section(string Name, ulong Address, ulong Size, byte[] Bytes);

    public static List<Section> Read(byte[] elf)
    {
        var span = elf.AsSpan();
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(span[40..]);
        var shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[58..]);
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[60..]);
        var shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(span[62..]);
        var strings = span[(int)BinaryPrimitives.ReadUInt64LittleEndian(span[(shoff + (shstrndx * shentsize) + 24)..])..];
        var sections = new List<Section>();
        for (var i = 1; i < shnum; i++)
        {
            var sh = span[(shoff + (i * shentsize))..];
            var flags = BinaryPrimitives.ReadUInt64LittleEndian(sh[8..]);
            if ((flags & 2) == 0)
            {
                continue; // not SHF_ALLOC
            }
            var nameOffset = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh);
            var name = Encoding.ASCII.GetString(strings[nameOffset..][..strings[nameOffset..].IndexOf((byte)0)]);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]);
            var address = BinaryPrimitives.ReadUInt64LittleEndian(sh[16..]);
            var offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]);
            if (size == 0)
            {
                continue;
            }
            sections.Add(new Section(name, address, size, type == 8 ? [] : span.Slice(offset, (int)size).ToArray()));
        }
        return sections;
    }

    /// <summary>The ELF header's e_flags.</summary>
    public static uint Flags(byte[] elf) => BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(48));

    /// <summary>One line per section: name, address, size and hex bytes: the golden-file format.</summary>
    public static string Describe(IEnumerable<Section> sections) =>
        string.Join('\n', sections.Select(s => $"{s.Name} 0x{s.Address:x} {s.Size} {Convert.ToHexString(s.Bytes).ToLowerInvariant()}")) + "\n";
}

using System.Buffers.Binary;
using System.Text;

namespace VirtApi.Assembler;

/// <summary>
/// Writes an ELF64 little-endian RISC-V executable (System V gABI; RISC-V ELF psABI): one PT_LOAD per
/// non-empty section with its permissions (text r-x, rodata r--, data and bss rw-, bss with no file
/// bytes), section headers, and a symbol table holding every label.
/// </summary>
internal static class ElfWriter
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int SectionHeaderSize = 64;
    private static readonly string[] SectionNames = [".text", ".rodata", ".data", ".bss"];
    private static readonly uint[] SegmentFlags = [5, 4, 6, 6]; // PF_R=4, PF_W=2, PF_X=1
    private static readonly ulong[] SectionFlags = [6, 2, 3, 3]; // SHF_ALLOC=2, SHF_WRITE=1, SHF_EXECINSTR=4

    public static byte[] Write(byte[][] sections, long[] bases, long[] sizes, IReadOnlyDictionary<string, ulong> symbols, ulong entry, uint flags)
    {
        var present = Enumerable.Range(0, 4).Where(i => sizes[i] > 0).ToArray();
        var output = new List<byte>();
        var phoff = HeaderSize;
        var dataStart = Align(phoff + (present.Length * ProgramHeaderSize), 16);
        var fileOffsets = new long[4];
        var cursor = (long)dataStart;
        foreach (var i in present)
        {
            if (i == (int)Section.Bss)
            {
                fileOffsets[i] = cursor;
                continue;
            }
            fileOffsets[i] = cursor;
            cursor += sections[i].Length;
            cursor = Align(cursor, 16);
        }

        // Symbol table: null symbol, then every symbol sorted by address and name.
        var strtab = new List<byte> { 0 };
        var symtab = new List<byte>(new byte[24]);
        foreach (var (name, value) in symbols.OrderBy(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal))
        {
            var nameOffset = strtab.Count;
            strtab.AddRange(Encoding.UTF8.GetBytes(name));
            strtab.Add(0);
            var shndx = (ushort)0xfff1; // SHN_ABS for equates
            for (var k = 0; k < present.Length; k++)
            {
                var i = present[k];
                if ((long)value >= bases[i] && (long)value <= bases[i] + sizes[i])
                {
                    shndx = (ushort)(k + 1);
                    break;
                }
            }
            var symbol = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(symbol, (uint)nameOffset);
            symbol[4] = (byte)((1 << 4) | (shndx == 0xfff1 ? 0 : 0)); // STB_GLOBAL, STT_NOTYPE
            BinaryPrimitives.WriteUInt16LittleEndian(symbol.AsSpan(6), shndx);
            BinaryPrimitives.WriteUInt64LittleEndian(symbol.AsSpan(8), value);
            symtab.AddRange(symbol);
        }
        var shstrtab = new List<byte> { 0 };
        int AddName(string name)
        {
            var offset = shstrtab.Count;
            shstrtab.AddRange(Encoding.ASCII.GetBytes(name));
            shstrtab.Add(0);
            return offset;
        }
        var sectionNameOffsets = present.Select(i => AddName(SectionNames[i])).ToArray();
        var symtabName = AddName(".symtab");
        var strtabName = AddName(".strtab");
        var shstrtabName = AddName(".shstrtab");

        var symtabOffset = Align(cursor, 8);
        var strtabOffset = symtabOffset + symtab.Count;
        var shstrtabOffset = strtabOffset + strtab.Count;
        var shoff = Align(shstrtabOffset + shstrtab.Count, 8);
        var sectionCount = present.Length + 4; // null, sections, symtab, strtab, shstrtab
        var total = shoff + (sectionCount * SectionHeaderSize);
        var file = new byte[total];

        // ELF header.
        "\u007fELF"u8.CopyTo(file);
        file[4] = 2; // ELFCLASS64
        file[5] = 1; // ELFDATA2LSB
        file[6] = 1; // EV_CURRENT
        var span = file.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], 243); // EM_RISCV
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], entry);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], (ulong)phoff);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], (ulong)shoff);
        BinaryPrimitives.WriteUInt32LittleEndian(span[48..], flags); // e_flags: soft-float ABI; EF_RISCV_RVC (1) when C is used
        BinaryPrimitives.WriteUInt16LittleEndian(span[52..], HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[54..], ProgramHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[56..], (ushort)present.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[58..], SectionHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[60..], (ushort)sectionCount);
        BinaryPrimitives.WriteUInt16LittleEndian(span[62..], (ushort)(sectionCount - 1));

        for (var k = 0; k < present.Length; k++)
        {
            var i = present[k];
            var isBss = i == (int)Section.Bss;
            var ph = span[(phoff + (k * ProgramHeaderSize))..];
            BinaryPrimitives.WriteUInt32LittleEndian(ph, 1); // PT_LOAD
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], SegmentFlags[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)fileOffsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], (ulong)bases[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], (ulong)bases[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], isBss ? 0 : (ulong)sections[i].Length);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)sizes[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x1000);
            if (!isBss)
            {
                sections[i].CopyTo(span[(int)fileOffsets[i]..]);
            }
        }
        symtab.ToArray().CopyTo(span[(int)symtabOffset..]);
        strtab.ToArray().CopyTo(span[(int)strtabOffset..]);
        shstrtab.ToArray().CopyTo(span[(int)shstrtabOffset..]);

        void SectionHeader(int index, int name, uint type, ulong flags, ulong address, long offset, long size, uint link, uint info, ulong align, ulong entrySize)
        {
            var sh = file.AsSpan((int)(shoff + (index * SectionHeaderSize)));
            BinaryPrimitives.WriteUInt32LittleEndian(sh, (uint)name);
            BinaryPrimitives.WriteUInt32LittleEndian(sh[4..], type);
            BinaryPrimitives.WriteUInt64LittleEndian(sh[8..], flags);
            BinaryPrimitives.WriteUInt64LittleEndian(sh[16..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(sh[24..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(sh[32..], (ulong)size);
            BinaryPrimitives.WriteUInt32LittleEndian(sh[40..], link);
            BinaryPrimitives.WriteUInt32LittleEndian(sh[44..], info);
            BinaryPrimitives.WriteUInt64LittleEndian(sh[48..], align);
            BinaryPrimitives.WriteUInt64LittleEndian(sh[56..], entrySize);
        }
        for (var k = 0; k < present.Length; k++)
        {
            var i = present[k];
            var type = i == (int)Section.Bss ? 8u : 1u; // SHT_NOBITS : SHT_PROGBITS
            SectionHeader(k + 1, sectionNameOffsets[k], type, SectionFlags[i], (ulong)bases[i], fileOffsets[i], sizes[i], 0, 0, 16, 0);
        }
        var symtabIndex = present.Length + 1;
        SectionHeader(symtabIndex, symtabName, 2, 0, 0, symtabOffset, symtab.Count, (uint)(symtabIndex + 1), 1, 8, 24);
        SectionHeader(symtabIndex + 1, strtabName, 3, 0, 0, strtabOffset, strtab.Count, 0, 0, 1, 0);
        SectionHeader(symtabIndex + 2, shstrtabName, 3, 0, 0, shstrtabOffset, shstrtab.Count, 0, 0, 1, 0);
        return file;
    }

    private static long Align(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}

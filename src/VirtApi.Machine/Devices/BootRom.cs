using System.Buffers.Binary;
using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Devices;

/// <summary>
/// The reset vector at 0x1000, the same code QEMU virt places there: a0 = mhartid, a1 = the
/// device-tree address (0: no device tree yet), a2 = the fw_dynamic info address, then a jump to
/// the entry point. Read-only.
/// </summary>
public sealed class BootRom : IMmioDevice
{
    public const ulong Address = 0x1000;
    public const ulong Size = 0x1000;
    private readonly byte[] _rom = new byte[Size];

    public BootRom(ulong entry, ulong deviceTree)
    {
        uint[] code =
        [
            0x00000297, // auipc t0, 0
            0x02828613, // addi  a2, t0, 40     (fw_dynamic info, zero here)
            0xf1402573, // csrr  a0, mhartid
            0x0202b583, // ld    a1, 32(t0)     (device tree)
            0x0182b283, // ld    t0, 24(t0)     (entry)
            0x00028067, // jr    t0
        ];
        for (var i = 0; i < code.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_rom.AsSpan(i * 4), code[i]);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(_rom.AsSpan(24), entry);
        BinaryPrimitives.WriteUInt64LittleEndian(_rom.AsSpan(32), deviceTree);
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (offset + (ulong)size > Size)
        {
            return false;
        }
        for (var i = 0; i < size; i++)
        {
            value |= (ulong)_rom[(int)offset + i] << (8 * i);
        }
        return true;
    }

    public bool Write(ulong offset, int size, ulong value) => false;
}

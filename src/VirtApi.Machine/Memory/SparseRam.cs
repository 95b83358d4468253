using System.Buffers.Binary;

namespace VirtApi.Machine.Memory;

/// <summary>
/// Guest RAM in 4 KiB frames allocated on first write (DESIGN.md "RAM is sparse"): a 1 GiB guest
/// that touches 2 MiB costs about 2 MiB of host memory. Reading a frame never written reads zero
/// without allocating it.
/// </summary>
public sealed class SparseRam
{
    public const int FrameShift = 12;
    public const int FrameSize = 1 << FrameShift;
    private const int FrameMask = FrameSize - 1;

    private readonly byte[]?[] _frames;

    public SparseRam(ulong baseAddress, ulong size)
    {
        if (size == 0 || size % FrameSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "RAM size must be a positive multiple of 4 KiB");
        }
        Base = baseAddress;
        Size = size;
        _frames = new byte[]?[size >> FrameShift];
    }

    public ulong Base { get; }

    public ulong Size { get; }

    /// <summary>Frames holding data because something wrote them (counted at allocation), less those released by <see cref="Clear"/>.</summary>
    public ulong FramesTouched { get; private set; }

    /// <summary>Whether the access of <paramref name="size"/> bytes at <paramref name="address"/> lies in RAM.</summary>
    public bool Contains(ulong address, int size) => address - Base < Size && address - Base + (ulong)size <= Size;

    /// <summary>Reads 1, 2, 4 or 8 bytes (little-endian). The caller has checked the range; accesses may cross frames.</summary>
    public ulong Read(ulong address, int size)
    {
        var offset = address - Base;
        var frameIndex = offset >> FrameShift;
        var within = (int)(offset & FrameMask);
        if (within + size <= FrameSize)
        {
            var frame = _frames[frameIndex];
            if (frame is null)
            {
                return 0;
            }
            var span = frame.AsSpan(within);
            return size switch
            {
                1 => span[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(span),
            };
        }
        ulong value = 0;
        for (var i = 0; i < size; i++)
        {
            value |= Read(address + (ulong)i, 1) << (8 * i);
        }
        return value;
    }

    public void Write(ulong address, int size, ulong value)
    {
        var offset = address - Base;
        var within = (int)(offset & FrameMask);
        if (within + size <= FrameSize)
        {
            var frame = Frame(offset >> FrameShift);
            var span = frame.AsSpan(within);
            switch (size)
            {
                case 1: span[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(span, value); break;
            }
            return;
        }
        for (var i = 0; i < size; i++)
        {
            Write(address + (ulong)i, 1, value >> (8 * i));
        }
    }

    /// <summary>
    /// The frame holding <paramref name="address"/> if it has been written, else null (reads as zero).
    /// The hart's fetch cache holds on to it: stores land in the same array, so it never goes stale.
    /// </summary>
    public byte[]? FrameAt(ulong address) => _frames[(address - Base) >> FrameShift];

    /// <summary>
    /// Makes the 4 KiB frame at <paramref name="address"/> read as zero again and releases its host
    /// memory (a VMM recycling a frame of its own, such as a shadow page table).
    /// </summary>
    public void Clear(ulong address)
    {
        var index = (address - Base) >> FrameShift;
        if (_frames[index] is not null)
        {
            _frames[index] = null;
            FramesTouched--;
        }
    }

    /// <summary>Copies <paramref name="bytes"/> into RAM at <paramref name="address"/> (the ELF loader).</summary>
    public void Load(ulong address, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != 0)
            {
                Write(address + (ulong)i, 1, bytes[i]);
            }
        }
    }

    private byte[] Frame(ulong index)
    {
        var frame = _frames[index];
        if (frame is null)
        {
            frame = new byte[FrameSize];
            _frames[index] = frame;
            FramesTouched++;
        }
        return frame;
    }
}

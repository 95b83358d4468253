using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtApi.Machine.Hart;

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

    // One bit per frame: set while some hart may hold decoded instructions from it (DecodedPageCache's
    // invalidation rule). Every write tests it; a set bit sends the write to the harts' caches, and is
    // cleared once none of them holds the page any more.
    private readonly ulong[] _decodedFrames;
    private DecodedPageCache[] _decodedPageCaches = [];

    // One bit per frame: written since the log was last taken (TakeDirtyFrames). The machine's store
    // path is where every write to RAM passes, so a snapshot's diff (and a migration round) can ask it
    // which frames changed instead of comparing contents; setting a bit is one OR per store.
    private readonly ulong[] _dirtyFrames;

    public SparseRam(ulong baseAddress, ulong size)
    {
        if (size == 0 || size % FrameSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "RAM size must be a positive multiple of 4 KiB");
        }
        Base = baseAddress;
        Size = size;
        _frames = new byte[]?[size >> FrameShift];
        _decodedFrames = FrameBitmap.Create(size >> FrameShift);
        _dirtyFrames = new ulong[_decodedFrames.Length];
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

    /// <summary>
    /// Writes 1, 2, 4 or 8 bytes (little-endian); every store to RAM comes here, so this is where harts'
    /// decoded copies of the bytes are dropped (see <see cref="DecodedPageCache"/>).
    /// </summary>
    public void Write(ulong address, int size, ulong value)
    {
        var offset = address - Base;
        var within = (int)(offset & FrameMask);
        if (within + size <= FrameSize)
        {
            var frameNumber = offset >> FrameShift;
            if (FrameBitmap.IsSet(_decodedFrames, frameNumber))
            {
                DropDecoded(frameNumber, within, size);
            }
            FrameBitmap.Set(_dirtyFrames, frameNumber);
            var frame = Frame(frameNumber);
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
    /// Copies the bytes at <paramref name="address"/> into <paramref name="destination"/> (a device
    /// reading guest memory). The caller has checked that they lie in RAM; frames never written read as zero.
    /// </summary>
    public void ReadBytes(ulong address, Span<byte> destination)
    {
        var offset = address - Base;
        while (!destination.IsEmpty)
        {
            var within = (int)(offset & FrameMask);
            var count = Math.Min(destination.Length, FrameSize - within);
            if (_frames[offset >> FrameShift] is { } frame)
            {
                frame.AsSpan(within, count).CopyTo(destination);
            }
            else
            {
                destination[..count].Clear();
            }
            destination = destination[count..];
            offset += (ulong)count;
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into RAM at <paramref name="address"/> (a device writing guest
    /// memory); the caller has checked the range. The same rule as <see cref="Write(ulong, int, ulong)"/>:
    /// harts' decoded copies of the bytes are dropped, frame by frame, before the bytes change.
    /// </summary>
    public void WriteBytes(ulong address, ReadOnlySpan<byte> source)
    {
        var offset = address - Base;
        while (!source.IsEmpty)
        {
            var frameNumber = offset >> FrameShift;
            var within = (int)(offset & FrameMask);
            var count = Math.Min(source.Length, FrameSize - within);
            if (FrameBitmap.IsSet(_decodedFrames, frameNumber))
            {
                DropDecoded(frameNumber, within, count);
            }
            // A device's DMA changes memory as a store does: a snapshot's diff must hold the frame.
            FrameBitmap.Set(_dirtyFrames, frameNumber);
            source[..count].CopyTo(Frame(frameNumber).AsSpan(within));
            source = source[count..];
            offset += (ulong)count;
        }
    }

    /// <summary>
    /// The frame holding <paramref name="address"/> if it has been written, else null (reads as zero).
    /// The hart's fetch cache holds on to it: stores land in the same array, so it never goes stale
    /// (and <see cref="Write"/> drops what harts decoded from it). Write it only through <see cref="Write"/>.
    /// </summary>
    public byte[]? FrameAt(ulong address) => _frames[(address - Base) >> FrameShift];

    /// <summary>
    /// Makes the 4 KiB frame at <paramref name="address"/> read as zero again and releases its host
    /// memory (a VMM recycling a frame of its own, such as a shadow page table).
    /// </summary>
    public void Clear(ulong address)
    {
        var index = (address - Base) >> FrameShift;
        if (FrameBitmap.IsSet(_decodedFrames, index))
        {
            foreach (var cache in _decodedPageCaches)
            {
                cache.Forget(index);
            }
            FrameBitmap.Reset(_decodedFrames, index);
        }
        if (_frames[index] is not null)
        {
            _frames[index] = null;
            FramesTouched--;
            FrameBitmap.Set(_dirtyFrames, index);
        }
    }

    /// <summary>
    /// The frames written (or released) since the last call, as the addresses of their first bytes in
    /// address order, and a new log started: what changed since a snapshot or a migration round. A
    /// frame whose stores left it as it was still counts: the log records writes, not differences.
    /// Frames loaded by <see cref="RestoreFrame"/> are not in it (a restore starts a clean log).
    /// </summary>
    public IReadOnlyList<ulong> TakeDirtyFrames() => FrameBitmap.Drain(_dirtyFrames, Base);

    /// <summary>Forgets every write so far: the frames as they are now are the new reference.</summary>
    public void ClearDirtyFrames() => Array.Clear(_dirtyFrames);

    /// <summary>
    /// Every frame that holds data (allocated by a write, not released since), in address order, with
    /// the address of its first byte: what a snapshot saves of RAM. A frame never written reads as zero
    /// and is not listed. Each <c>Frame</c> is the live 4 KiB frame, not a copy: it changes when the
    /// guest next stores to it, so read (hash, copy) it before the machine runs again.
    /// </summary>
    public IEnumerable<(ulong Address, ReadOnlyMemory<byte> Frame)> TouchedFrames()
    {
        for (var index = 0; index < _frames.Length; index++)
        {
            if (_frames[index] is { } frame)
            {
                yield return (Base + ((ulong)index << FrameShift), frame);
            }
        }
    }

    /// <summary>
    /// Loads a frame saved by <see cref="TouchedFrames"/>: the 4 KiB at <paramref name="address"/> (frame
    /// aligned, in RAM) become <paramref name="bytes"/> (exactly <see cref="FrameSize"/> of them), and the
    /// frame counts as touched even if they are all zero, as it did when saved. Decoded instructions of
    /// the frame are dropped as a store would drop them, but nobody watching stores is told (no HTIF,
    /// no reservation broken, no dirty page for a monitor): this restores memory, the guest wrote nothing.
    /// </summary>
    public void RestoreFrame(ulong address, ReadOnlySpan<byte> bytes)
    {
        if ((address & FrameMask) != 0 || !Contains(address, FrameSize))
        {
            throw new ArgumentOutOfRangeException(nameof(address), address, "not the address of a RAM frame");
        }
        if (bytes.Length != FrameSize)
        {
            throw new ArgumentException($"a frame is {FrameSize} bytes, not {bytes.Length}", nameof(bytes));
        }
        var frameNumber = (address - Base) >> FrameShift;
        if (FrameBitmap.IsSet(_decodedFrames, frameNumber))
        {
            DropDecoded(frameNumber, 0, FrameSize);
        }
        // Copied into the frame's array (allocated if need be), never replacing it: a hart's fetch cache
        // may hold that array, and must see the restored bytes.
        bytes.CopyTo(Frame(frameNumber));
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

    /// <summary>
    /// The hart's hot path: reads <paramref name="size"/> (a constant after inlining) bytes at
    /// <paramref name="offset"/> from <see cref="Base"/>, which the caller checked is in RAM and aligned.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadAligned(ulong offset, int size)
    {
        var frame = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_frames), (nint)(offset >> FrameShift));
        if (frame is null)
        {
            return 0;
        }
        ref var at = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(frame), (nint)(offset & FrameMask));
        return size switch
        {
            1 => at,
            2 => LittleEndian(Unsafe.ReadUnaligned<ushort>(ref at)),
            4 => LittleEndian(Unsafe.ReadUnaligned<uint>(ref at)),
            _ => LittleEndian(Unsafe.ReadUnaligned<ulong>(ref at)),
        };
    }

    /// <summary>
    /// The hart's hot path: writes like <see cref="Write"/> at <paramref name="offset"/> (in RAM, aligned)
    /// when that is only a copy into an allocated frame no hart decoded code from; false otherwise, and
    /// the caller uses <see cref="Write"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWriteAligned(ulong offset, int size, ulong value)
    {
        var frameNumber = offset >> FrameShift;
        var frame = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_frames), (nint)frameNumber);
        if (frame is null || (Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_decodedFrames), (nint)(frameNumber >> 6)) & (1UL << (int)frameNumber)) != 0)
        {
            return false;
        }
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_dirtyFrames), (nint)(frameNumber >> 6)) |= 1UL << (int)frameNumber;
        ref var at = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(frame), (nint)(offset & FrameMask));
        switch (size)
        {
            case 1: at = (byte)value; break;
            case 2: Unsafe.WriteUnaligned(ref at, LittleEndian((ushort)value)); break;
            case 4: Unsafe.WriteUnaligned(ref at, LittleEndian((uint)value)); break;
            default: Unsafe.WriteUnaligned(ref at, LittleEndian(value)); break;
        }
        return true;
    }

    private static ushort LittleEndian(ushort value) => BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);

    private static uint LittleEndian(uint value) => BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);

    private static ulong LittleEndian(ulong value) => BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);

    internal void AddDecodedPageCache(DecodedPageCache cache) => _decodedPageCaches = [.. _decodedPageCaches, cache];

    /// <summary>A hart decoded instructions from frame <paramref name="frameNumber"/>: writes to it must reach the caches.</summary>
    internal void MarkDecoded(ulong frameNumber) => FrameBitmap.Set(_decodedFrames, frameNumber);

    private void DropDecoded(ulong frameNumber, int within, int size)
    {
        var held = false;
        foreach (var cache in _decodedPageCaches)
        {
            held |= cache.StoreSeen(frameNumber, within, size);
        }
        if (!held)
        {
            FrameBitmap.Reset(_decodedFrames, frameNumber);
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

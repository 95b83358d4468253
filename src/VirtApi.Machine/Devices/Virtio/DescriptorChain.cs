using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>One descriptor of a chain as the device uses it (virtio 1.2 §2.7.5 <c>struct virtq_desc</c>): a guest buffer and its direction.</summary>
/// <param name="Address">Guest-physical address of the buffer.</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="DeviceWritable">VIRTQ_DESC_F_WRITE: the device writes it; otherwise the device only reads it.</param>
public readonly record struct VirtqBuffer(ulong Address, uint Length, bool DeviceWritable);

/// <summary>
/// A descriptor chain taken from the available ring (virtio 1.2 §2.7.5, §2.7.13): its head index and its
/// buffers, device-readable ones first (§2.7.4.2 requires that order, and <see cref="SplitVirtqueue"/>
/// refuses chains that break it). The device sees the readable buffers as one run of bytes and the
/// writable buffers as another (§2.7.4: no assumption about how a message is split into descriptors),
/// and reaches them only through <see cref="TryRead"/> and <see cref="TryWrite"/>, which keep to the
/// buffers (§2.7.5.1: never write a device-readable buffer) and to guest RAM.
/// </summary>
public readonly ref struct DescriptorChain
{
    private readonly ReadOnlySpan<VirtqBuffer> _buffers;
    private readonly IGuestMemory _memory;

    internal DescriptorChain(ushort head, ReadOnlySpan<VirtqBuffer> buffers, IGuestMemory memory, uint readableLength, uint writableLength)
    {
        Head = head;
        _buffers = buffers;
        _memory = memory;
        ReadableLength = readableLength;
        WritableLength = writableLength;
    }

    /// <summary>The descriptor index the driver put in the available ring: the id the used ring returns.</summary>
    public ushort Head { get; }

    /// <summary>The chain's descriptors in order.</summary>
    public ReadOnlySpan<VirtqBuffer> Buffers => _buffers;

    /// <summary>Bytes in the device-readable buffers.</summary>
    public uint ReadableLength { get; }

    /// <summary>Bytes in the device-writable buffers.</summary>
    public uint WritableLength { get; }

    /// <summary>
    /// Copies readable bytes <paramref name="offset"/> .. offset + destination.Length into
    /// <paramref name="destination"/>. False when they run past the readable buffers or a buffer lies outside guest RAM.
    /// </summary>
    public bool TryRead(uint offset, Span<byte> destination)
    {
        if ((ulong)offset + (ulong)destination.Length > ReadableLength)
        {
            return false;
        }
        foreach (var buffer in _buffers)
        {
            if (destination.IsEmpty || buffer.DeviceWritable)
            {
                break;
            }
            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }
            var count = (int)Math.Min(buffer.Length - offset, (uint)destination.Length);
            if (!_memory.TryRead(buffer.Address + offset, destination[..count]))
            {
                return false;
            }
            destination = destination[count..];
            offset = 0;
        }
        return true;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to writable bytes <paramref name="offset"/> .. offset + source.Length.
    /// False when they run past the writable buffers or a buffer lies outside guest RAM (bytes before
    /// that buffer may have been written, as a real device's DMA would have).
    /// </summary>
    public bool TryWrite(uint offset, ReadOnlySpan<byte> source)
    {
        if ((ulong)offset + (ulong)source.Length > WritableLength)
        {
            return false;
        }
        foreach (var buffer in _buffers)
        {
            if (source.IsEmpty)
            {
                break;
            }
            if (!buffer.DeviceWritable)
            {
                continue;
            }
            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }
            var count = (int)Math.Min(buffer.Length - offset, (uint)source.Length);
            if (!_memory.TryWrite(buffer.Address + offset, source[..count]))
            {
                return false;
            }
            source = source[count..];
            offset = 0;
        }
        return true;
    }
}

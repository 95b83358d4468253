using System.Threading.Channels;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Runtime;

/// <summary>
/// Where workers' events go. State changes are queued for <see cref="VmStateRecorder"/>, the single
/// writer that persists them in order; every event is also offered to the live subscribers (the
/// server-sent-event streams). Publishing never blocks a scheduler thread: a subscriber that falls
/// behind loses its oldest events, and its stream says so.
/// </summary>
public sealed class VmEventHub : IVmEventSink
{
    private readonly Channel<VmStateChanged> _stateChanges = Channel.CreateUnbounded<VmStateChanged>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private readonly List<Subscription> _subscribers = [];

    /// <summary>State changes to persist, in the order they happened.</summary>
    public ChannelReader<VmStateChanged> StateChanges => _stateChanges.Reader;

    public void Publish(VmEvent vmEvent)
    {
        if (vmEvent is VmStateChanged changed)
        {
            _stateChanges.Writer.TryWrite(changed);
        }
        Subscription[] subscribers;
        lock (_lock)
        {
            subscribers = [.. _subscribers];
        }
        foreach (var subscriber in subscribers)
        {
            if (subscriber.VmId is null || subscriber.VmId == vmEvent.VmId)
            {
                subscriber.Offer(vmEvent);
            }
        }
    }

    /// <summary>Events of one VM, or of all when <paramref name="vmId"/> is null, until disposed.</summary>
    public Subscription Subscribe(Guid? vmId)
    {
        var subscription = new Subscription(this, vmId);
        lock (_lock)
        {
            _subscribers.Add(subscription);
        }
        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            _subscribers.Remove(subscription);
        }
    }

    /// <summary>One live stream's queue.</summary>
    public sealed class Subscription : IDisposable
    {
        private const int Capacity = 4096;
        private readonly VmEventHub _hub;
        private readonly Channel<VmEvent> _events = Channel.CreateBounded<VmEvent>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        private long _dropped;

        internal Subscription(VmEventHub hub, Guid? vmId)
        {
            _hub = hub;
            VmId = vmId;
        }

        public Guid? VmId { get; }

        public ChannelReader<VmEvent> Events => _events.Reader;

        /// <summary>Events this subscriber lost because it read too slowly.</summary>
        public long Dropped => Interlocked.Read(ref _dropped);

        internal void Offer(VmEvent vmEvent)
        {
            if (_events.Reader.Count >= Capacity)
            {
                Interlocked.Increment(ref _dropped);
            }
            _events.Writer.TryWrite(vmEvent);
        }

        public void Dispose()
        {
            _hub.Remove(this);
            _events.Writer.TryComplete();
        }
    }
}

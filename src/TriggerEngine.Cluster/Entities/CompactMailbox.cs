using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// The mailbox of customer and product entities. Akka.NET's default (a <c>ConcurrentQueue</c>) allocates a segment of
/// 32 slots, ~1 KB, for every actor, busy or idle: 100 MB at 100k resident entities, most of which hold no message at
/// all. This one holds no array while empty, starts at four slots and gives a grown array back once drained. A lock
/// guards it: an entity's queue has one reader (its own turn) and few writers at a time, so the lock is uncontended.
/// It is a deque because the entities stash while their state loads (<see cref="IWithUnboundedStash"/>).
/// </summary>
public sealed class CompactMailbox : MailboxType, IProducesMessageQueue<CompactMailbox.Queue>
{
    /// <summary>Configuration path of this mailbox (see <see cref="Hocon"/>).</summary>
    public const string Id = "trigger-engine.entity-mailbox";

    public static Config Hocon => ConfigurationFactory.ParseString(
        $"{Id} {{ mailbox-type = \"{typeof(CompactMailbox).AssemblyQualifiedName}\" }}");

    public CompactMailbox(Settings settings, Config config) : base(settings, config) { }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new Queue();

    public sealed class Queue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
    {
        private const int FirstCapacity = 4;
        private const int KeptCapacity = 16;
        private Envelope[] _items = [];
        private int _head;
        private int _count;

        public bool HasMessages => Volatile.Read(ref _count) > 0;
        public int Count => Volatile.Read(ref _count);

        public void Enqueue(IActorRef receiver, Envelope envelope)
        {
            lock (this)
            {
                if (_count == _items.Length) Grow();
                _items[(_head + _count) % _items.Length] = envelope;
                Volatile.Write(ref _count, _count + 1);
            }
        }

        public void EnqueueFirst(Envelope envelope)
        {
            lock (this)
            {
                if (_count == _items.Length) Grow();
                _head = (_head - 1 + _items.Length) % _items.Length;
                _items[_head] = envelope;
                Volatile.Write(ref _count, _count + 1);
            }
        }

        public bool TryDequeue(out Envelope envelope)
        {
            lock (this)
            {
                if (_count == 0)
                {
                    envelope = default;
                    return false;
                }
                envelope = _items[_head];
                _items[_head] = default;
                _head = (_head + 1) % _items.Length;
                Volatile.Write(ref _count, _count - 1);
                // Drained after a burst: give the big array back, an idle entity keeps nothing.
                if (_count == 0 && _items.Length > KeptCapacity)
                {
                    _items = [];
                    _head = 0;
                }
                return true;
            }
        }

        public void CleanUp(IActorRef owner, IMessageQueue deadletters)
        {
            while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
        }

        private void Grow()
        {
            var grown = new Envelope[Math.Max(FirstCapacity, _items.Length * 2)];
            for (var i = 0; i < _count; i++) grown[i] = _items[(_head + i) % _items.Length];
            _items = grown;
            _head = 0;
        }
    }
}

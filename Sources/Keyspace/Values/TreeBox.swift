/// A persistent tree in an object of its own, so that a set or hash that holds one is a single reference and
/// `Value` stays small (the tree itself is three words). Copy on write: ``TreeBox/unique(_:)`` gives a box of
/// one's own, whose tree then shares its nodes with the original's until they are written. A box is changed only
/// when uniquely referenced, so a snapshot's box on another thread never sees a change: that is what makes
/// `@unchecked Sendable` sound.
@usableFromInline final class TreeBox<Tree: Sendable>: @unchecked Sendable {
    @usableFromInline var tree: Tree

    init(_ tree: Tree) { self.tree = tree }

    /// `box` itself when nothing else holds it, else a new box with the same (shared) tree.
    @inline(__always)
    static func unique(_ box: inout TreeBox) {
        if !isKnownUniquelyReferenced(&box) { box = TreeBox(box.tree) }
    }
}

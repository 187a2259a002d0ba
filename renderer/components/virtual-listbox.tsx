import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

type DataAttributes = Readonly<Record<`data-${string}`, string | undefined>>;

// A keyboard-operable virtual list (the directory's and the inbox's) ---------------------------------------------------------------

export interface VirtualListboxProps<T> {
  readonly label: string;
  readonly items: readonly T[];
  /** Every row is this tall (px): the list's CSS keeps rows at one height, so nothing needs measuring. */
  readonly rowHeight: number;
  readonly itemKey: (item: T) => string;
  readonly renderItem: (item: T, ids: { readonly label: string; readonly description: string }) => ReactNode;
  /** Each row is named by the element with `ids.label` (else by its whole text). */
  readonly labelledByItem?: boolean;
  readonly onOpen: (item: T) => void;
  /** The item opened elsewhere (e.g. the details beside the list): marked selected. */
  readonly selectedKey?: string | undefined;
  /** When this changes the list scrolls back to the top (a new search, another tab). */
  readonly resetKey: string;
  readonly listRef?: RefObject<HTMLDivElement | null>;
  readonly attributes?: DataAttributes;
  readonly itemAttributes?: (item: T) => DataAttributes;
  readonly rowClassName?: (item: T) => string;
  /** All items there are, when `items` holds only the first of them (the rest are loaded as the user scrolls). */
  readonly totalCount?: number;
  /** The last row in view: where a paged list loads its next page. */
  readonly onVisibleEnd?: (lastIndex: number) => void;
}

/**
 * A listbox that renders only the rows in view. Focus stays on the list and `aria-activedescendant` names the active
 * row (rows out of view do not exist, so they could not hold focus): arrows, Page Up/Down, Home and End move, Enter or
 * Space opens.
 */
export function VirtualListbox<T>(props: VirtualListboxProps<T>) {
  const { items, rowHeight, itemKey, onOpen } = props;
  const ownRef = useRef<HTMLDivElement>(null);
  const scrollRef = props.listRef ?? ownRef;
  const baseId = useId();
  // The active row is remembered by key, so it stays on its item when the list is refreshed.
  const [activeKey, setActiveKey] = useState<string>();
  const found = activeKey === undefined ? -1 : items.findIndex((item) => itemKey(item) === activeKey);
  const activeIndex = found >= 0 ? found : 0;
  // eslint-disable-next-line react-hooks/incompatible-library -- no React Compiler here; the virtualizer is read only in this render, never memoized
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 6,
  });

  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [props.resetKey, scrollRef]);

  const lastVisible = virtualizer.getVirtualItems().at(-1)?.index ?? -1;
  const { onVisibleEnd } = props;
  useEffect(() => {
    if (lastVisible >= 0) onVisibleEnd?.(lastVisible);
  }, [lastVisible, onVisibleEnd]);

  const move = (index: number) => {
    const target = Math.min(Math.max(index, 0), items.length - 1);
    const item = items[target];
    if (item === undefined) return;
    setActiveKey(itemKey(item));
    virtualizer.scrollToIndex(target);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const active = items[activeIndex];
    if (active === undefined) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? rowHeight) / rowHeight) - 1);
    const targets: Record<string, number> = {
      ArrowDown: activeIndex + 1,
      ArrowUp: activeIndex - 1,
      PageDown: activeIndex + page,
      PageUp: activeIndex - page,
      Home: 0,
      End: items.length - 1,
    };
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(active);
    } else if (event.key in targets) {
      event.preventDefault();
      move(targets[event.key]!);
    }
  };

  const optionId = (index: number) => `${baseId}-${index}`;
  return (
    <div
      ref={scrollRef}
      className="virtual-listbox"
      role="listbox"
      aria-label={props.label}
      tabIndex={0}
      aria-activedescendant={items.length > 0 ? optionId(activeIndex) : undefined}
      onKeyDown={onKeyDown}
      {...props.attributes}
    >
      <div className="virtual-sizer" role="presentation" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => {
          const item = items[row.index]!;
          const key = itemKey(item);
          const ids = { label: `${optionId(row.index)}-l`, description: `${optionId(row.index)}-d` };
          return (
            <div
              key={key}
              id={optionId(row.index)}
              role="option"
              className={`virtual-row ${props.rowClassName?.(item) ?? ''}`}
              aria-selected={key === props.selectedKey}
              aria-posinset={row.index + 1}
              aria-setsize={props.totalCount ?? items.length}
              {...(props.labelledByItem && { 'aria-labelledby': ids.label, 'aria-describedby': ids.description })}
              data-active={row.index === activeIndex || undefined}
              style={{ height: rowHeight, transform: `translateY(${row.start}px)` }}
              onClick={() => {
                setActiveKey(key);
                onOpen(item);
              }}
              {...props.itemAttributes?.(item)}
            >
              {props.renderItem(item, ids)}
            </div>
          );
        })}
      </div>
    </div>
  );
}
